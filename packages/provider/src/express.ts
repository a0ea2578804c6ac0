/**
 * @module express
 * The Express twin of `paidRoute` (hono.ts): checks the caller's key and holds the price, lets the
 * route run, then captures when the answer is 2xx and voids otherwise. Typed structurally so the
 * SDK needs no Express types; works with Express 4 and 5.
 */
import { randomUUID } from 'node:crypto';
import { ProviderClient, ProviderError } from './client.ts';
import type { PaidRouteOptions } from './hono.ts';

interface ExpressRequest {
  method: string;
  originalUrl?: string;
  url: string;
  path?: string;
  header(name: string): string | undefined;
}

interface ExpressResponse {
  statusCode: number;
  headersSent: boolean;
  status(code: number): ExpressResponse;
  set(field: string, value: string): ExpressResponse;
  json(body: unknown): unknown;
  on(event: 'finish' | 'close', listener: () => void): unknown;
  writeHead: (...args: never[]) => unknown;
}

export type ExpressMiddleware = (req: ExpressRequest, res: ExpressResponse, next: (error?: unknown) => void) => Promise<void>;

export function paidExpressRoute(options: PaidRouteOptions): ExpressMiddleware {
  const client = new ProviderClient(options);
  return async function tollgatePaidRoute(req, res, next) {
    const apiKey = req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? req.header('x-api-key');
    if (!apiKey) {
      res.status(401).set('www-authenticate', 'Bearer realm="tollgate"').json({ code: 'token_invalid', status: 401, detail: 'Send your API key as Authorization: Bearer <key>' });
      return;
    }
    const tool = options.tool ?? `${req.method} ${req.path ?? req.url}`;
    let callId: string;
    try {
      const answer = await client.authorize({ service: options.service, tool, apiKey, idempotencyKey: req.header('idempotency-key') ?? randomUUID(), price: options.price, fingerprint: `${req.method} ${req.originalUrl ?? req.url}`.slice(0, 200) });
      if (answer.type !== 'authorized') {
        res.status(409).json({ code: answer.type === 'in_flight' ? 'call_in_flight' : 'already_settled', callId: answer.callId });
        return;
      }
      callId = answer.callId;
    } catch (error) {
      if (error instanceof ProviderError) {
        res.status(error.status).set('content-type', 'application/problem+json').json(error.problem);
        return;
      }
      next(error);
      return;
    }
    const startedMs = performance.now();
    res.set('x-tollgate-call-id', callId);
    // Settled when the answer is complete; a client that went away before it is not charged.
    let settled = false;
    const settle = (status: 'ok' | 'tool_error' | 'cancelled') => {
      if (settled) return;
      settled = true;
      void client.settle({ callId, tool, status, latencyMs: Math.round(performance.now() - startedMs) }).catch(() => {});
    };
    res.on('finish', () => settle(res.statusCode >= 200 && res.statusCode < 300 ? 'ok' : 'tool_error'));
    res.on('close', () => settle('cancelled'));
    next();
  };
}
