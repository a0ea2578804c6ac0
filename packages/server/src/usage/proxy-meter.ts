/**
 * @module usage/proxy-meter
 * A usage event for every call the HTTP proxy answers, observed from the outside (the proxy itself
 * is untouched): status from the answer (2xx ok, other upstream answers tool_error, problem+json
 * refused with its code or upstream_failed), the charge from `X-Tollgate-Charge`, the principal
 * from the grant. Latency is to the answer's headers; a client that then drops a streamed body is
 * voided by the proxy but metered here with the announced charge (the ledger stays the truth).
 */
import type { MiddlewareHandler } from 'hono';
import { parseMicros, type Tollgate } from '@tollgate/core';
import type { UsageSink, UsageStatus } from './index.ts';

export function proxyUsage(options: { tg: Tollgate; sink: UsageSink }): MiddlewareHandler {
  return async function meterProxyCall(c, next) {
    const startedMs = performance.now();
    await next();
    const latencyMs = performance.now() - startedMs;
    const response = c.res;
    const problem = (response.headers.get('content-type') ?? '').includes('problem+json')
      ? ((await response.clone().json().catch(() => ({}))) as { code?: string })
      : undefined;
    const token = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
    const [, , service = '', ...rest] = c.req.path.split('/');
    // Recorded after the answer is on its way: metering never delays or fails a paid call.
    setImmediate(() => void record(options, {
      token, service, tool: `${c.req.method} /${rest.join('/')}`, latencyMs, problem,
      status: response.status, callId: response.headers.get('x-tollgate-call-id') ?? undefined, charge: response.headers.get('x-tollgate-charge'),
    }).catch(() => {}));
  };
}

interface Observed {
  token: string | undefined;
  service: string;
  tool: string;
  latencyMs: number;
  problem: { code?: string } | undefined;
  status: number;
  callId: string | undefined;
  charge: string | null;
}

async function record(options: { tg: Tollgate; sink: UsageSink }, o: Observed): Promise<void> {
  const grant = o.token ? await options.tg.grants.authenticate(o.token).catch(() => undefined) : undefined;
  let status: UsageStatus = o.status >= 200 && o.status < 300 ? 'ok' : 'tool_error';
  if (o.problem) status = o.problem.code === 'upstream_failed' ? 'upstream_failed' : 'refused';
  await options.sink.write({
    at: new Date(), edge: 'http', principalId: grant?.userId ?? null, grantId: grant?.id ?? null,
    service: o.service.slice(0, 63), tool: o.tool.slice(0, 300), status,
    ...(status === 'refused' && o.problem?.code ? { code: o.problem.code } : {}),
    ...(o.callId ? { callId: o.callId } : {}),
    latencyMs: o.latencyMs,
    chargeMicros: status === 'ok' || status === 'tool_error' ? safeMicros(o.charge) : 0n,
  });
}

function safeMicros(value: string | null): bigint {
  try {
    return value ? parseMicros(value) : 0n;
  } catch {
    return 0n;
  }
}
