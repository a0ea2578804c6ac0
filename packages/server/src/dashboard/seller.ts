/**
 * @module dashboard/seller
 * A seller's page in SQL: per day and service over the last `days`, the calls, what was captured
 * (gross), the platform's fee, the errors (upstream failures, timeouts, tool errors) and the median
 * latency. Refused calls never reached the seller and are left out. Served by
 * `audit_records_seller_created` (migration 006).
 */
import type { Tollgate } from '@tollgate/core';

export const SELLER_DAYS_MAX = 90;
const DAY_MS = 24 * 3600 * 1000;

export interface SellerDay {
  day: string;
  service: string;
  calls: number;
  errors: number;
  revenueMicros: string;
  feeMicros: string;
  p50LatencyMs: number | null;
}

interface Row {
  day: string;
  service: string;
  calls: bigint;
  errors: bigint;
  revenue: bigint | null;
  fee: bigint | null;
  p50: number | null;
}

/** Daily rows per service; `sellerId` null = every seller (admins). */
export async function sellerSeries(tg: Tollgate, sellerId: string | null, days: number, now = new Date()): Promise<{ from: string; days: SellerDay[] }> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const from = new Date(today - (days - 1) * DAY_MS);
  const rows = await tg.db.query<Row>(
    `SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, service,
            count(*) AS calls,
            count(*) FILTER (WHERE status IN ('upstream_failed', 'upstream_timeout', 'tool_error')) AS errors,
            sum(captured_micros) AS revenue,
            sum(fee_micros) AS fee,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) FILTER (WHERE latency_ms IS NOT NULL) AS p50
       FROM audit_records
      WHERE created_at >= $1 AND outcome <> 'refused' AND ($2::text IS NULL OR seller_id = $2)
      GROUP BY 1, 2 ORDER BY 1, 2`,
    [from, sellerId],
  );
  return {
    from: from.toISOString(),
    days: rows.map((r) => ({
      day: r.day, service: r.service, calls: Number(r.calls), errors: Number(r.errors), revenueMicros: String(r.revenue ?? 0n), feeMicros: String(r.fee ?? 0n),
      p50LatencyMs: r.p50 === null ? null : Math.round(Number(r.p50)),
    })),
  };
}
