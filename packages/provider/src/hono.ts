/**
 * @module hono
 * Per-call charging for a seller's Hono routes: `paidRoute({ …, price })` checks the caller's API
 * key (`Authorization: Bearer` or `X-Api-Key`) and holds the price, runs the route, then captures
 * on a 2xx answer and voids otherwise. Refusals answer with Tollgate's problem JSON and status.
 * Charge headers: `X-Tollgate-Call-Id`, `X-Tollgate-Charge`, `X-Tollgate-Remaining`.
 */
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { ProviderClient, ProviderError, type ProviderClientOptions } from './client.ts';

export interface PaidRouteOptions extends ProviderClientOptions {
  service: string;
  /** Fixed price, e.g. "0.01". */
  price: string;
  /** The tool name recorded for the call (default `METHOD /path`). */
  tool?: string;
}

export function paidRoute(options: PaidRouteOptions): MiddlewareHandler {
  const client = new ProviderClient(options);
  return async function tollgatePaidRoute(c, next) {
    const apiKey = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? c.req.header('x-api-key');
    if (!apiKey) return c.json({ code: 'token_invalid', status: 401, detail: 'Send your API key as Authorization: Bearer <key>' }, 401, { 'www-authenticate': 'Bearer realm="tollgate"' });
    const idempotencyKey = c.req.header('idempotency-key') ?? randomUUID();
    const startedMs = performance.now();
    const tool = options.tool ?? `${c.req.method} ${c.req.path}`;
    let callId: string;
    try {
      const answer = await client.authorize({ service: options.service, tool, apiKey, idempotencyKey, price: options.price, fingerprint: `${c.req.method} ${c.req.url}`.slice(0, 200) });
      if (answer.type === 'in_flight') return c.json({ code: 'call_in_flight', callId: answer.callId }, 409, { 'retry-after': String(answer.retryAfterSeconds) });
      if (answer.type === 'replayed') return c.json({ code: 'already_settled', callId: answer.callId, charged: answer.charged }, 409, { 'x-tollgate-call-id': answer.callId, 'x-tollgate-charge': answer.charged });
      callId = answer.callId;
    } catch (error) {
      if (error instanceof ProviderError) return c.json(error.problem, error.status as 400, { 'content-type': 'application/problem+json' });
      throw error;
    }
    try {
      await next();
    } catch (error) {
      await client.settle({ callId, tool, status: 'upstream_failed' }).catch(() => {});
      throw error;
    }
    const ok = c.res.status >= 200 && c.res.status < 300;
    const settled = await client.settle({ callId, tool, status: ok ? 'ok' : 'tool_error', latencyMs: Math.round(performance.now() - startedMs) });
    c.res.headers.set('x-tollgate-call-id', settled.callId);
    c.res.headers.set('x-tollgate-charge', settled.charged);
    c.res.headers.set('x-tollgate-remaining', settled.remaining);
  };
}
