/**
 * @module admin/routes/analytics
 * Aggregates over the paid-call records: per service (calls, revenue, error rate, p50 latency) and
 * spend per task or agent. Computed in SQL over a time window (default the last 30 days).
 */
import { z } from 'zod';
import { route, type RouteDef } from '../route.ts';
import { orgFilter, sellerFilter, type AdminDeps } from './deps.ts';

const Window = {
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
};

const DAY_MS = 24 * 3600 * 1000;

function windowOf(query: { from?: string | undefined; to?: string | undefined }): [Date, Date] {
  const to = query.to ? new Date(query.to) : new Date(Date.now() + 60_000);
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * DAY_MS);
  return [from, to];
}

interface ServiceRow {
  service: string;
  calls: bigint;
  captured: bigint;
  refused: bigint;
  errors: bigint;
  revenue_micros: bigint | null;
  fee_micros: bigint | null;
  p50_ms: number | null;
}

export function analyticsRoutes({ tg }: AdminDeps): RouteDef[] {
  return [
    route({ method: 'get', path: '/v1/analytics/services', tag: 'analytics', summary: 'Per service: calls, revenue, error rate, p50 latency', roles: ['admin', 'buyer', 'seller'],
      query: z.strictObject({ ...Window, orgId: z.string().min(1).max(200).optional(), sellerId: z.string().min(1).max(200).optional() }),
      response: z.object({ from: z.string(), to: z.string(), items: z.array(z.object({ service: z.string(), calls: z.number(), captured: z.number(), refused: z.number(), errors: z.number(), errorRate: z.number(), revenueMicros: z.string(), feeMicros: z.string(), p50LatencyMs: z.number().nullable() })) }),
      handler: async ({ query, principal }) => {
        const [from, to] = windowOf(query);
        const orgId = principal.role === 'seller' ? undefined : orgFilter(principal, query.orgId);
        const sellerId = sellerFilter(principal, query.sellerId);
        const rows = await tg.db.query<ServiceRow>(
          `SELECT service,
                  count(*) FILTER (WHERE outcome <> 'refused') AS calls,
                  count(*) FILTER (WHERE outcome = 'captured') AS captured,
                  count(*) FILTER (WHERE outcome = 'refused') AS refused,
                  count(*) FILTER (WHERE status IN ('upstream_failed', 'upstream_timeout', 'tool_error')) AS errors,
                  sum(captured_micros) AS revenue_micros,
                  sum(fee_micros) AS fee_micros,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE latency_ms IS NOT NULL) AS p50_ms
             FROM audit_records
            WHERE created_at >= $1 AND created_at < $2 AND ($3::text IS NULL OR org_id = $3) AND ($4::text IS NULL OR seller_id = $4)
            GROUP BY service ORDER BY service LIMIT 1000`,
          [from, to, orgId ?? null, sellerId ?? null],
        );
        return {
          from: from.toISOString(),
          to: to.toISOString(),
          items: rows.map((r) => {
            const calls = Number(r.calls);
            return {
              service: r.service, calls, captured: Number(r.captured), refused: Number(r.refused), errors: Number(r.errors),
              errorRate: calls === 0 ? 0 : Number(r.errors) / calls, revenueMicros: (r.revenue_micros ?? 0n).toString(), feeMicros: (r.fee_micros ?? 0n).toString(),
              p50LatencyMs: r.p50_ms === null ? null : Math.round(Number(r.p50_ms)),
            };
          }),
        };
      } }),
    route({ method: 'get', path: '/v1/analytics/spend', tag: 'analytics', summary: 'Spend per task or per agent (captured calls)', roles: ['admin', 'buyer'],
      query: z.strictObject({ ...Window, by: z.enum(['task', 'agent']).default('task'), orgId: z.string().min(1).max(200).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: z.object({ by: z.enum(['task', 'agent']), items: z.array(z.object({ key: z.string().nullable(), calls: z.number(), spentMicros: z.string() })) }),
      handler: async ({ query, principal }) => {
        const [from, to] = windowOf(query);
        const orgId = orgFilter(principal, query.orgId);
        const column = query.by === 'task' ? 'task_id' : 'agent_id';
        const rows = await tg.db.query<{ key: string | null; calls: bigint; spent: bigint | null }>(
          `SELECT ${column} AS key, count(*) AS calls, sum(captured_micros) AS spent
             FROM audit_records
            WHERE outcome = 'captured' AND created_at >= $1 AND created_at < $2 AND ($3::text IS NULL OR org_id = $3)
            GROUP BY ${column} ORDER BY spent DESC NULLS LAST LIMIT $4`,
          [from, to, orgId ?? null, query.limit],
        );
        return { by: query.by, from: from.toISOString(), to: to.toISOString(), items: rows.map((r) => ({ key: r.key, calls: Number(r.calls), spentMicros: (r.spent ?? 0n).toString() })) };
      } }),
  ];
}
