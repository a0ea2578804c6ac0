/**
 * @module rails/mpp-proxy
 * MPP in front of the paid HTTP proxy (`/proxy/{service}/{path…}`), before any grant is looked at:
 *
 * - `Authorization: Payment …` → the MPP rail decides: 402 with challenges, or the upstream's
 *   answer with `Payment-Receipt` once paid. No grant is involved; the seller is credited from the
 *   settlement.
 * - no `Authorization` at all, to a service that takes MPP → 402 with its MPP challenges (the
 *   grantless way in); any other request (a grant token, a service without MPP) → the normal proxy.
 * - an x402 payment (`PAYMENT-SIGNATURE` / `X-PAYMENT`) is the x402 rail's; a service that takes
 *   both answers an unpaid request with x402's 402 plus the MPP challenges (the client picks).
 *
 * The upstream is called the way the proxy calls it (same header rules, bounded body, timeouts);
 * a 5xx or an unreachable upstream is not charged.
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { TollgateError, type ResolvedService, type ServiceRegistry } from '@tollgate/core';
import { challengeHeaderValues, isPaymentAuthorization, payOverHttp } from '@tollgate/rails/mpp';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../middleware/problem/index.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from '../proxy/headers.ts';
import { prepareBody, type BodyLimits } from '../proxy/request-body.ts';
import type { MppEdge } from './mpp.ts';

export interface MppProxyOptions {
  edge: MppEdge;
  services: ServiceRegistry;
  limits: BodyLimits & { upstreamMaxDurationMs: number };
  fetch?: typeof fetch;
}

const PROXY_PATH = /^\/proxy\/([a-z0-9][a-z0-9-]{0,62})(\/.*)?$/;

export function mppProxy(options: MppProxyOptions): MiddlewareHandler<AppEnv> {
  return async function mppPayment(c, next) {
    const request = c.req.raw;
    const authorization = request.headers.get('authorization');
    const pays = isPaymentAuthorization(authorization);
    if ((authorization !== null && !pays) || request.headers.has('payment-signature') || request.headers.has('x-payment')) return next();
    const url = new URL(request.url);
    const match = PROXY_PATH.exec(url.pathname);
    if (!match) return pays ? refuse('not_found', `no service at ${url.pathname.slice(0, 100)}`) : next();
    const [, slug, rest] = match as unknown as [string, string, string | undefined];
    const path = rest ?? '/';
    const method = request.method.toUpperCase();
    let resolved: ResolvedService;
    try {
      resolved = await options.services.resolve(slug);
    } catch (error) {
      if (pays) throw error;
      return next();
    }
    const { service } = resolved;
    const offer = service.kind === 'http' && service.baseUrl ? options.edge.offerFor(service, method, path, 'http') : undefined;
    if (!offer) {
      if (!pays) return next();
      return refuse('invalid_request', `${slug} does not take MPP payments for ${method} ${path} (use a grant token)`, { service: slug });
    }
    if (!pays && service.metadata.x402 !== undefined) {
      await next();
      if (c.res.status === 402 && !c.res.headers.has('www-authenticate')) {
        const headers = new Headers(c.res.headers);
        for (const value of challengeHeaderValues(options.edge.seller, offer, request.headers.get('accept-payment'))) headers.append('www-authenticate', value);
        c.res = new Response(c.res.body, { status: 402, statusText: c.res.statusText, headers });
      }
      return;
    }
    return payOverHttp(options.edge.seller, request, offer, () => forward(options, resolved, request, method, `${path}${url.search}`));
  };
}

function refuse(code: 'not_found' | 'invalid_request', detail: string, data: Record<string, unknown> = {}): Response {
  return problemResponse(new TollgateError(code, detail, data));
}

async function forward(options: MppProxyOptions, resolved: ResolvedService, request: Request, method: string, pathAndQuery: string): Promise<Response> {
  const { service } = resolved;
  const body = await prepareBody(request, options.limits);
  const callId = `mpp_${randomUUID()}`;
  let upstream: Response;
  try {
    upstream = await (options.fetch ?? fetch)(`${service.baseUrl}${pathAndQuery}`, {
      method,
      headers: upstreamRequestHeaders(request.headers, { credentials: resolved.credentialHeaders, callId }),
      body: body.body,
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(Math.min(service.timeoutMs, options.limits.upstreamMaxDurationMs)), request.signal]),
      ...(body.body instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit);
  } catch (error) {
    const timedOut = error instanceof Error && error.name === 'TimeoutError';
    return problemResponse(timedOut
      ? new TollgateError('upstream_timeout', `The upstream did not answer within ${service.timeoutMs} ms; nothing was charged`, { timeoutMs: service.timeoutMs })
      : new TollgateError('upstream_failed', 'The upstream could not be reached; nothing was charged'));
  }
  if (upstream.status >= 500) {
    await upstream.body?.cancel().catch(() => {});
    return problemResponse(new TollgateError('upstream_failed', `The upstream answered ${upstream.status}; nothing was charged`, { upstreamStatus: upstream.status }));
  }
  const headers = clientResponseHeaders(upstream.headers, resolved.credentialHeaders);
  headers.set('x-tollgate-call-id', callId);
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
}
