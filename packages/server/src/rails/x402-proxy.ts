/**
 * @module rails/x402-proxy
 * The HTTP proxy's x402 path: a service with an x402 setting (`metadata.x402`) is paid per call by
 * whoever calls it, with no Tollgate grant. No payment → 402 with `PAYMENT-REQUIRED` (v2) and a v1
 * body; a payment (`PAYMENT-SIGNATURE`, or v1 `X-PAYMENT`) → verified → the upstream runs (once,
 * however many replays arrive at once) → its answer is read in full and held back → settled → sent
 * with `PAYMENT-RESPONSE`. A failed or unknown settlement releases nothing. Upstream failures and
 * 4xx answers are not settled: the payer keeps their money.
 */
import { TollgateError, type Quote, type ResolvedService } from '@tollgate/core';
import {
  encodeHeader, makeOffer, paymentFromHeaders, paymentRequired, paymentRequiredV1, WireError, X402_HEADERS, X402Rejection, X402SettlementError,
  x402SettingsOf, type AnyPaymentPayload, type Offer, type StoredAnswer, type X402Hold, type X402Seller, type X402Settings,
} from '@tollgate/rails';
import type { Logger } from '../logger.ts';
import { clientResponseHeaders, upstreamRequestHeaders, type ProxyLimits } from '../proxy/index.ts';
import { prepareBody } from '../proxy/request-body.ts';
import { readBounded } from '../proxy/metered-body.ts';

const EXPOSED = `${X402_HEADERS.paymentRequired}, ${X402_HEADERS.paymentResponse}, ${X402_HEADERS.xPaymentResponse}`;
const GRANT_BEARER = /^Bearer\s+tg_(live|test)_/i;
/** The payment is Tollgate's to verify and settle; the upstream never sees it. */
const PAYMENT_HEADERS = [X402_HEADERS.paymentSignature.toLowerCase(), X402_HEADERS.xPayment.toLowerCase()];

export interface X402ProxyOptions {
  seller: X402Seller;
  limits: ProxyLimits;
  logger: Logger;
  /** The address clients use, for the `resource.url` of a 402. */
  publicUrl?: string;
  fetch?: typeof fetch;
}

export interface X402ProxyCall {
  request: Request;
  resolved: ResolvedService;
  priced: Quote;
  method: string;
  path: string;
  search: string;
}

export class X402Proxy {
  readonly #options: X402ProxyOptions;

  constructor(options: X402ProxyOptions) {
    this.#options = options;
  }

  /** The service's x402 setting when this request is to be paid with x402 (not from a grant). */
  settingsFor(resolved: ResolvedService, headers: Headers): X402Settings | undefined {
    const settings = x402SettingsOf(resolved.service);
    if (!settings) return undefined;
    const paysWithX402 = headers.has(X402_HEADERS.paymentSignature) || headers.has(X402_HEADERS.xPayment);
    const hasGrant = GRANT_BEARER.test(headers.get('authorization') ?? '');
    return paysWithX402 || !hasGrant || !settings.grants ? settings : undefined;
  }

  async call(settings: X402Settings, call: X402ProxyCall): Promise<Response> {
    const { request, resolved, priced } = call;
    if (priced.pricing !== 'fixed') {
      throw new TollgateError('conflict', `${resolved.service.slug}: ${call.method} ${call.path} is usage-priced; x402 exact needs a fixed price`, { service: resolved.service.slug });
    }
    const origin = this.#options.publicUrl?.replace(/\/$/, '') ?? new URL(request.url).origin;
    const offer = makeOffer(settings, priced.holdMicros, { url: `${origin}/proxy/${resolved.service.slug}${call.path}`, description: resolved.service.name, mimeType: 'application/json' });
    let payment: AnyPaymentPayload | undefined;
    try {
      payment = paymentFromHeaders(request.headers);
    } catch (error) {
      if (error instanceof WireError) throw new TollgateError('invalid_request', error.message, { field: error.message.split(':')[0], reason: error.reason });
      throw error;
    }
    if (!payment) return challenge(offer, 'Payment required');
    let hold: X402Hold;
    try {
      hold = await this.#options.seller.authorize({ payment, offer, service: { id: resolved.service.id, slug: resolved.service.slug, sellerId: resolved.service.sellerId }, tool: `${call.method} ${call.path}`, edge: 'http' });
    } catch (error) {
      if (error instanceof X402Rejection) return challenge(offer, error.reason, error.retryAfterSeconds);
      throw error;
    }
    if (hold.answer) return storedResponse(hold.answer, hold.id, true);
    return this.#forward(call, offer, hold);
  }

  async #forward(call: X402ProxyCall, offer: Offer, hold: X402Hold): Promise<Response> {
    const { seller, limits } = this.#options;
    const { service } = call.resolved;
    let upstream: Response;
    let bytes: Uint8Array | undefined;
    try {
      const body = await prepareBody(call.request, limits);
      upstream = await (this.#options.fetch ?? fetch)(`${service.baseUrl}${call.path}${call.search}`, {
        method: call.method,
        headers: upstreamRequestHeaders(call.request.headers, { credentials: call.resolved.credentialHeaders, callId: hold.id, omit: PAYMENT_HEADERS }),
        body: body.body,
        signal: AbortSignal.any([AbortSignal.timeout(service.timeoutMs), call.request.signal]),
        redirect: 'manual',
        ...(body.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
      // The answer is held back until the payment settles, so it is read whole (bounded).
      bytes = await readBounded(upstream.body, limits.unitsBodyBytesMax);
    } catch (error) {
      await seller.void(hold, 'the upstream could not be reached');
      if (error instanceof TollgateError) throw error;
      throw new TollgateError('upstream_failed', 'The upstream could not be reached; the payment was not collected', { callId: hold.id });
    }
    if (bytes === undefined || upstream.status >= 500) {
      await seller.void(hold, `upstream answered ${upstream.status}`);
      throw new TollgateError('upstream_failed', bytes === undefined ? `The upstream's answer is larger than ${limits.unitsBodyBytesMax} bytes; the payment was not collected` : `The upstream answered ${upstream.status}; the payment was not collected`, { callId: hold.id, upstreamStatus: upstream.status });
    }
    const headers = clientResponseHeaders(upstream.headers, call.resolved.credentialHeaders);
    headers.delete('content-length');
    headers.set('x-tollgate-call-id', hold.id);
    if (upstream.status >= 300) {
      // Not a success: not paid for (the x402 middlewares skip settlement on >= 400 too).
      await seller.void(hold, `upstream answered ${upstream.status}`);
      return new Response(bytes.byteLength ? (bytes as Uint8Array<ArrayBuffer>) : null, { status: upstream.status, headers });
    }
    const answer: StoredAnswer = {
      status: upstream.status,
      headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' },
      ...(bytes.byteLength <= limits.replayBodyBytesMax ? { body: Buffer.from(bytes).toString('base64') } : {}),
    };
    try {
      const settled = await seller.settle(hold, { answer, httpStatus: upstream.status });
      headers.set(X402_HEADERS.paymentResponse, encodeHeader(settled.response));
      headers.set(X402_HEADERS.xPaymentResponse, encodeHeader(settled.response));
    } catch (error) {
      if (!(error instanceof X402SettlementError)) throw error;
      this.#options.logger.warn({ callId: hold.id, outcome: error.outcome, reason: error.reason, tx: error.transaction }, 'x402 settlement did not complete; content withheld');
      return challenge(offer, error.outcome === 'unknown' ? 'settlement_pending' : `settlement_failed: ${error.reason}`, error.outcome === 'unknown' ? 5 : undefined, hold.id);
    }
    headers.set('cache-control', 'private, no-store');
    headers.set('access-control-expose-headers', EXPOSED);
    return new Response(bytes.byteLength ? (bytes as Uint8Array<ArrayBuffer>) : null, { status: upstream.status, headers });
  }
}

/** 402 with `PAYMENT-REQUIRED` (v2) and the v1-compatible JSON body. */
export function challenge(offer: Offer, error: string, retryAfterSeconds?: number, callId?: string): Response {
  const headers = new Headers({
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'access-control-expose-headers': EXPOSED,
    [X402_HEADERS.paymentRequired]: encodeHeader(paymentRequired(offer, error)),
  });
  if (retryAfterSeconds !== undefined) headers.set('retry-after', String(retryAfterSeconds));
  if (callId) headers.set('x-tollgate-call-id', callId);
  return new Response(JSON.stringify(paymentRequiredV1(offer, error)), { status: 402, headers });
}

function storedResponse(answer: StoredAnswer, callId: string, replayed: boolean): Response {
  const headers = new Headers(answer.headers);
  headers.set('x-tollgate-call-id', callId);
  if (replayed) headers.set('x-tollgate-replayed', 'true');
  if (answer.settlement) {
    headers.set(X402_HEADERS.paymentResponse, encodeHeader(answer.settlement));
    headers.set(X402_HEADERS.xPaymentResponse, encodeHeader(answer.settlement));
  }
  if (answer.body === undefined) headers.set('x-tollgate-replay-body', 'omitted');
  headers.set('access-control-expose-headers', EXPOSED);
  return new Response(answer.body ? Buffer.from(answer.body, 'base64') : null, { status: answer.status, headers });
}
