/**
 * @module proxy/proxy
 * `ANY /proxy/{service}/{path…}`: authenticate the grant token, price the route, authorize (one
 * atomic hold) → forward to the upstream with its credentials → settle (capture or void) → answer
 * with the call id, the charge and what the grant has left.
 *
 * - Idempotency: the call id comes from the grant and the `Idempotency-Key`. Without a key the proxy
 *   makes a random one (the call then cannot be retried safely) and returns it in
 *   `X-Tollgate-Idempotency-Key`, so a client can still retry with it.
 * - What is charged: a 2xx answer (and a 4xx when the service charges failed calls). 5xx answers,
 *   timeouts, connection failures and client disconnects void the hold.
 * - Streaming: bodies stream both ways. The charge is settled when the body has been delivered; a
 *   client that disconnects mid-body is not charged. `X-Tollgate-Charge` (sent with the headers) says
 *   what will be captured if the body completes. Usage read from a JSON field is the exception: that
 *   body is read first (up to `unitsBodyBytesMax`), then settled, then sent with the exact charge.
 * - Replays answer with the recorded status, the charge headers and, for small non-streamed bodies
 *   (`replayBodyBytesMax`), the recorded body; `X-Tollgate-Replayed: true` marks them.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Handler } from 'hono';
import { TollgateError, formatMicros } from '@tollgate/core';
import { quote, usageChargeMicros, type Quote, type ResolvedService, type ServiceRegistry } from '@tollgate/core/services';
import type { Authorized, CallStatus, Guard, Replayed, SettleInput } from '@tollgate/core';
import type { AppEnv } from '../env.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics/index.ts';
import type { X402Proxy } from '../rails/x402-proxy.ts';
import { paidMicros, paidRecord, type PaidUpstream, type UpstreamPayments } from '../rails/upstream-payments.ts';
import { PROBLEM_CONTENT_TYPE } from '../middleware/problem/index.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from './headers.ts';
import { meteredBody, readBounded, ReplayCapture } from './metered-body.ts';
import { fingerprintOf, prepareBody, type PreparedBody } from './request-body.ts';

export interface ProxyLimits {
  requestBodyBytesMax: number;
  fingerprintBodyBytesMax: number;
  replayBodyBytesMax: number;
  unitsBodyBytesMax: number;
  upstreamMaxDurationMs: number;
}

export interface ProxyOptions {
  guard: Guard;
  services: ServiceRegistry;
  logger: Logger;
  metrics?: Metrics;
  limits: ProxyLimits;
  /** The fetch used to reach upstreams (tests may wrap it). */
  fetch?: typeof fetch;
  /** Services with an x402 setting are paid per call with x402 instead of a grant (`rails/x402-proxy.ts`). */
  x402?: X402Proxy;
  /** Buyer side: pays upstreams that answer 402, inside the call's hold (`rails/upstream-payments.ts`). */
  upstreamPayments?: UpstreamPayments;
}

/** Longest task, agent or approval id header. */
const ID_HEADER_LENGTH_MAX = 200;
/** Longest declared reason. */
const REASON_LENGTH_MAX = 1_000;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

interface CallState {
  c: Context<AppEnv>;
  request: Request;
  method: string;
  path: string;
  search: string;
  resolved: ResolvedService;
  priced: Quote;
  authz: Authorized;
  body: PreparedBody;
  generatedKey: string | undefined;
  startedMs: number;
}

export function proxy(options: ProxyOptions): Handler<AppEnv> {
  const { guard, services, limits } = options;

  return async function proxyCall(c) {
    const startedMs = performance.now();
    const request = c.req.raw;
    const slug = c.req.param('service') ?? '';
    const url = new URL(request.url);
    const path = url.pathname.slice(`/proxy/${slug}`.length) || '/';
    // With x402 on, a caller without a grant may pay per call: the token is required after resolving.
    const early = options.x402 ? undefined : bearerToken(request.headers);
    if (!SLUG.test(slug)) throw new TollgateError('not_found', `no service ${slug.slice(0, 80)}`, { service: slug.slice(0, 80) });
    const resolved = await services.resolve(slug);
    const { service } = resolved;
    if (service.kind !== 'http' || !service.baseUrl) throw new TollgateError('not_found', `${slug} is not an HTTP service (call it through the MCP gateway)`, { service: slug });
    const method = request.method.toUpperCase();
    const priced = quote(service, method, path);
    if (!priced) throw new TollgateError('not_found', `${slug} has no price for ${method} ${path}, so it cannot be called`, { service: slug, method, path });
    const x402 = options.x402?.settingsFor(resolved, request.headers);
    if (x402) return options.x402!.call(x402, { request, resolved, priced, method, path, search: url.search });
    const token = early ?? bearerToken(request.headers);
    const given = request.headers.get('idempotency-key');
    if (given !== null && !IDEMPOTENCY_KEY.test(given)) throw new TollgateError('invalid_request', 'Idempotency-Key: 1 to 200 visible ASCII characters', { field: 'Idempotency-Key' });
    const generatedKey = given === null ? randomUUID() : undefined;
    const body = await prepareBody(request, limits);
    const authorization = await countRefusal(options, slug, guard.authorize({
      token,
      idempotencyKey: given ?? generatedKey!,
      fingerprint: fingerprintOf(method, path, url.search, body.digest),
      service: resolved.ref,
      tool: `${method} ${path}`,
      ...optionalHeader(request.headers, 'x-tollgate-task', 'taskId', ID_HEADER_LENGTH_MAX),
      ...optionalHeader(request.headers, 'x-tollgate-agent', 'agentId', ID_HEADER_LENGTH_MAX),
      ...optionalHeader(request.headers, 'x-tollgate-reason', 'reason', REASON_LENGTH_MAX),
      ...optionalHeader(request.headers, 'x-tollgate-approval', 'approvalId', ID_HEADER_LENGTH_MAX),
      priceMicros: priced.holdMicros,
      pricing: priced.pricing,
      edge: 'http',
    }));
    if (authorization.type === 'in_flight') {
      options.metrics?.proxyCalls.inc({ service: slug, outcome: 'in_flight' });
      c.set('callId', authorization.callId);
      throw new TollgateError('call_in_flight', 'The first request with this Idempotency-Key is still running; retry later', { callId: authorization.callId, retryAfterSeconds: authorization.retryAfterSeconds });
    }
    if (authorization.type === 'replayed') {
      options.metrics?.proxyCalls.inc({ service: slug, outcome: 'replayed' });
      return replayResponse(authorization);
    }
    c.set('callId', authorization.callId);
    return forward(options, { c, request, method, path, search: url.search, resolved, priced, authz: authorization, body, generatedKey, startedMs });
  };
}

async function countRefusal<T>(options: ProxyOptions, slug: string, pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    options.metrics?.proxyCalls.inc({ service: slug, outcome: 'refused' });
    throw error;
  }
}

function bearerToken(headers: Headers): string {
  const value = headers.get('authorization');
  const token = value?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!token) throw new TollgateError('token_invalid', 'Send the grant token as Authorization: Bearer <token>', { header: 'Authorization' });
  return token;
}

function optionalHeader<K extends string>(headers: Headers, name: string, key: K, lengthMax: number): Partial<Record<K, string>> {
  const value = headers.get(name)?.trim();
  if (!value) return {};
  if (value.length > lengthMax) throw new TollgateError('invalid_request', `${name}: at most ${lengthMax} characters`, { field: name });
  return { [key]: value } as Record<K, string>;
}

function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

async function forward(options: ProxyOptions, call: CallState): Promise<Response> {
  const { request, resolved, authz, priced } = call;
  const { service } = resolved;
  const fetchImpl = options.fetch ?? fetch;
  const log = options.logger.child({ callId: authz.callId, service: service.slug });
  const settle = settler(options, call, log);
  const headerTimeout = new AbortController();
  const timer = setTimeout(() => headerTimeout.abort(new DOMException(`no answer within ${service.timeoutMs} ms`, 'TimeoutError')), service.timeoutMs);
  const signal = AbortSignal.any([headerTimeout.signal, AbortSignal.timeout(options.limits.upstreamMaxDurationMs), request.signal]);
  const upstreamStartedMs = performance.now();
  let upstream: Response;
  try {
    upstream = await fetchImpl(`${service.baseUrl}${call.path}${call.search}`, {
      method: call.method,
      headers: upstreamRequestHeaders(request.headers, { credentials: resolved.credentialHeaders, callId: authz.callId }),
      body: call.body.body,
      signal,
      redirect: 'manual',
      ...(call.body.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (error) {
    clearTimeout(timer);
    return failBeforeAnswer(call, settle, error, signal);
  }
  clearTimeout(timer);
  let paid: PaidUpstream | undefined;
  if (upstream.status === 402 && options.upstreamPayments) {
    try {
      ({ response: upstream, paid } = await options.upstreamPayments.pay(upstream, {
        service, url: `${service.baseUrl}${call.path}${call.search}`, holdMicros: authz.holdMicros, replayable: !(call.body.body instanceof ReadableStream),
        retry: (extra) => fetchImpl(`${service.baseUrl}${call.path}${call.search}`, { method: call.method, headers: { ...Object.fromEntries(upstreamRequestHeaders(request.headers, { credentials: resolved.credentialHeaders, callId: authz.callId })), ...extra }, body: call.body.body as Uint8Array | null, signal, redirect: 'manual' } as RequestInit),
      }));
    } catch (error) {
      await settle({ status: 'upstream_failed', summary: 'the upstream asked for a payment that was not made', result: { problem: (error instanceof TollgateError ? error : new TollgateError('upstream_failed', 'Paying the upstream failed; nothing was charged', { callId: authz.callId })).toProblem() } });
      throw error instanceof TollgateError ? error : new TollgateError('upstream_failed', 'Paying the upstream failed; nothing was charged', { callId: authz.callId });
    }
  }
  const upstreamMs = performance.now() - upstreamStartedMs;
  options.metrics?.upstreamDuration.observe({ service: service.slug }, upstreamMs / 1000);
  options.metrics?.proxyDuration.observe({ service: service.slug }, (performance.now() - call.startedMs) / 1000);

  const httpStatus = upstream.status;
  if (httpStatus >= 500) {
    await upstream.body?.cancel().catch(() => {});
    const error = new TollgateError('upstream_failed', `The upstream answered ${httpStatus}; nothing was charged`, { callId: authz.callId, upstreamStatus: httpStatus });
    await settle({ status: 'upstream_failed', httpStatus, summary: `upstream answered ${httpStatus}`, result: { problem: error.toProblem() } });
    throw error;
  }
  const status: CallStatus = httpStatus >= 200 && httpStatus < 300 ? 'ok' : 'tool_error';
  const charges = status === 'ok' || service.chargeFailedCalls;
  const headers = clientResponseHeaders(upstream.headers, resolved.credentialHeaders);

  if (priced.pricing === 'usage' && priced.units?.from === 'json') {
    return answerAfterReading(options, call, upstream, headers, status, charges, settle);
  }
  let units: bigint | undefined;
  if (priced.pricing === 'usage' && priced.units?.from === 'header') units = parseUnits(upstream.headers.get(priced.units.name));
  const actualMicros = paid ? paidMicros(paid) : priced.pricing === 'usage' ? (charges ? usageChargeMicros(priced, units) : 0n) : undefined;
  const plannedMicros = !charges || authz.free ? 0n : (actualMicros ?? authz.holdMicros);
  setChargeHeaders(headers, call, plannedMicros);
  const contentType = upstream.headers.get('content-type') ?? '';
  const settleInput = (outcome: CallStatus, capture?: ReplayCapture): Omit<SettleInput, 'callId'> => ({
    status: outcome,
    httpStatus,
    chargeFailures: service.chargeFailedCalls,
    ...(actualMicros !== undefined ? { actualMicros } : {}),
    ...(units !== undefined ? { units } : {}),
    summary: `${call.method} ${call.path} → ${httpStatus}${paid ? `; ${paidRecord(paid).summary}` : ''}`,
    result: { ...recordedResult(httpStatus, contentType, capture), ...(paid ? paidRecord(paid).result : {}) },
  });
  if (!upstream.body || call.method === 'HEAD' || upstream.headers.get('content-length') === '0') {
    await upstream.body?.cancel().catch(() => {});
    await settle(settleInput(status, new ReplayCapture(0)));
    return new Response(null, { status: httpStatus, headers });
  }
  const capture = new ReplayCapture(contentType.includes('text/event-stream') ? 0 : options.limits.replayBodyBytesMax);
  const body = meteredBody(upstream.body, {
    onChunk: (chunk) => capture.add(chunk),
    onDone: async () => {
      await settle(settleInput(status, capture));
    },
    onCancel: async () => {
      await settle({ status: 'cancelled', httpStatus, summary: 'the client disconnected before the body was delivered', result: { cancelled: true } });
    },
    onError: async (error) => {
      const outcome: CallStatus = request.signal.aborted ? 'cancelled' : isTimeout(signal.reason) || isTimeout(error) ? 'upstream_timeout' : 'upstream_failed';
      await settle({ status: outcome, httpStatus, summary: `the body failed: ${outcome}`, result: { cancelled: outcome === 'cancelled' } });
    },
  }, contentLengthOf(headers));
  return new Response(body, { status: httpStatus, headers });
}

function contentLengthOf(headers: Headers): number | undefined {
  const value = headers.get('content-length');
  return value !== null && /^\d{1,15}$/.test(value) && Number(value) > 0 ? Number(value) : undefined;
}

/** Usage read from a JSON field: the body is read (bounded), units found, settled, then sent. */
async function answerAfterReading(
  options: ProxyOptions,
  call: CallState,
  upstream: Response,
  headers: Headers,
  status: CallStatus,
  charges: boolean,
  settle: Settle,
): Promise<Response> {
  const { priced, authz } = call;
  const httpStatus = upstream.status;
  let bytes: Uint8Array | undefined;
  try {
    bytes = await readBounded(upstream.body, options.limits.unitsBodyBytesMax);
  } catch (error) {
    return failBeforeAnswer(call, settle, error, call.request.signal);
  }
  if (bytes === undefined) {
    const error = new TollgateError('upstream_failed', `The upstream's answer is larger than ${options.limits.unitsBodyBytesMax} bytes and cannot be metered; nothing was charged`, { callId: authz.callId, upstreamStatus: httpStatus });
    await settle({ status: 'upstream_failed', httpStatus, summary: 'answer too large to meter', result: { problem: error.toProblem() } });
    throw error;
  }
  const units = priced.units?.from === 'json' ? unitsFromJson(bytes, priced.units.path) : undefined;
  const actualMicros = charges ? usageChargeMicros(priced, units) : 0n;
  const contentType = upstream.headers.get('content-type') ?? '';
  const capture = new ReplayCapture(options.limits.replayBodyBytesMax);
  capture.add(bytes);
  const settlement = await settle({
    status,
    httpStatus,
    chargeFailures: call.resolved.service.chargeFailedCalls,
    actualMicros,
    ...(units !== undefined ? { units } : {}),
    summary: `${call.method} ${call.path} → ${httpStatus}`,
    result: recordedResult(httpStatus, contentType, capture),
  });
  setChargeHeaders(headers, call, settlement ? settlement.chargedMicros : actualMicros);
  headers.delete('content-length');
  return new Response(bytes.byteLength === 0 ? null : (bytes as Uint8Array<ArrayBuffer>), { status: httpStatus, headers });
}

type Settle = (input: Omit<SettleInput, 'callId'>) => Promise<{ chargedMicros: bigint } | undefined>;

/** Settles once, logs the call, counts it; a failing settle is logged and never reaches the client. */
function settler(options: ProxyOptions, call: CallState, log: Logger): Settle {
  let done: Promise<{ chargedMicros: bigint } | undefined> | undefined;
  return (input) => {
    done ??= (async () => {
      const latencyMs = Math.round(performance.now() - call.startedMs);
      try {
        const settled = await options.guard.settle({ callId: call.authz.callId, latencyMs, ...input });
        options.metrics?.proxyCalls.inc({ service: call.resolved.service.slug, outcome: settled.outcome });
        if (settled.chargedMicros > 0n) options.metrics?.chargedMicros.inc({ service: call.resolved.service.slug }, Number(settled.chargedMicros));
        log.info({ method: call.method, path: call.path, status: input.status, httpStatus: input.httpStatus, outcome: settled.outcome, chargedMicros: settled.chargedMicros.toString(), latencyMs }, 'call settled');
        return settled;
      } catch (error) {
        log.error({ err: error instanceof Error ? error.message : String(error), status: input.status }, 'settle failed');
        return undefined;
      }
    })();
    return done;
  };
}

async function failBeforeAnswer(call: CallState, settle: Settle, error: unknown, signal: AbortSignal): Promise<Response> {
  const { authz } = call;
  if (call.request.signal.aborted) {
    await settle({ status: 'cancelled', summary: 'the client disconnected before the upstream answered', result: { cancelled: true } });
    // Nobody is listening; the status is for logs and tests that call the app directly.
    return new Response(null, { status: 499 });
  }
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof TollgateError && cause.code === 'payload_too_large') {
    await settle({ status: 'cancelled', summary: 'request body too large', result: { problem: cause.toProblem() } });
    throw cause;
  }
  const timedOut = isTimeout(signal.reason) || isTimeout(error);
  const failure = timedOut
    ? new TollgateError('upstream_timeout', `The upstream did not answer within ${call.resolved.service.timeoutMs} ms; nothing was charged`, { callId: authz.callId, timeoutMs: call.resolved.service.timeoutMs })
    : new TollgateError('upstream_failed', 'The upstream could not be reached; nothing was charged', { callId: authz.callId });
  await settle({ status: timedOut ? 'upstream_timeout' : 'upstream_failed', summary: failure.message, result: { problem: failure.toProblem() } });
  throw failure;
}

function setChargeHeaders(headers: Headers, call: CallState, chargeMicros: bigint): void {
  headers.set('x-tollgate-call-id', call.authz.callId);
  headers.set('x-tollgate-charge', formatMicros(chargeMicros));
  headers.set('x-tollgate-remaining', formatMicros(call.authz.remainingMicros + call.authz.holdMicros - chargeMicros));
  if (call.generatedKey) headers.set('x-tollgate-idempotency-key', call.generatedKey);
}

function recordedResult(httpStatus: number, contentType: string, capture: ReplayCapture | undefined): Record<string, unknown> {
  const body = capture?.base64();
  return { httpStatus, contentType, ...(body === undefined ? { bodyOmitted: true } : { body }) };
}

/** Units are a non-negative integer; anything else counts as unknown (charged nothing). */
export function parseUnits(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) return BigInt(value.trim());
  return undefined;
}

function unitsFromJson(bytes: Uint8Array, path: string): bigint | undefined {
  try {
    let value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    for (const key of path.split('.')) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return parseUnits(value);
  } catch {
    return undefined;
  }
}

function replayResponse(replayed: Replayed): Response {
  const result = replayed.result ?? {};
  const headers = new Headers({
    'x-tollgate-call-id': replayed.callId,
    'x-tollgate-charge': formatMicros(replayed.chargedMicros),
    'x-tollgate-remaining': formatMicros(replayed.remainingMicros),
    'x-tollgate-replayed': 'true',
  });
  const problem = result.problem as { status?: number } | undefined;
  if (problem && typeof problem.status === 'number') {
    headers.set('content-type', PROBLEM_CONTENT_TYPE);
    return new Response(JSON.stringify(problem), { status: problem.status, headers });
  }
  if (result.cancelled) {
    headers.set('content-type', PROBLEM_CONTENT_TYPE);
    const error = new TollgateError('conflict', 'The first request with this Idempotency-Key was cancelled before it finished; nothing was charged. Use a new key to try again.', { callId: replayed.callId, outcome: replayed.outcome });
    return new Response(JSON.stringify(error.toProblem()), { status: 409, headers });
  }
  const status = typeof result.httpStatus === 'number' ? result.httpStatus : 200;
  if (typeof result.contentType === 'string' && result.contentType) headers.set('content-type', result.contentType);
  if (result.bodyOmitted) headers.set('x-tollgate-replay-body', 'omitted');
  const body = typeof result.body === 'string' && status !== 204 && status !== 304 ? Buffer.from(result.body, 'base64') : null;
  return new Response(body, { status, headers });
}
