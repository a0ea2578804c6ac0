/**
 * @module quota/postgres-store
 * Quota counters in Postgres, for deployments without Redis: one row per principal, metric and
 * fixed window in `quota_counters`, changed by one conditional upsert, so concurrent calls queue
 * on the row lock and exactly `limit` of them fit. The window comes from the database's clock.
 * Only fixed windows; old windows are pruned in the background.
 */
import type { Db } from '@tollgate/core';
import type { QuotaDecision, QuotaLimit, QuotaStore } from './types.ts';

const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export class PostgresQuotaStore implements QuotaStore {
  readonly kind = 'postgres';
  constructor(readonly db: Db) {}

  async consume(principalId: string, quota: QuotaLimit, cost: bigint): Promise<QuotaDecision> {
    const windowMs = BigInt(quota.windowSeconds) * 1000n;
    // The metric name carries the window length: changing a principal's window starts a fresh count.
    const metric = `${quota.metric}:${quota.windowSeconds}`;
    const [taken] = await this.db.query<{ used: bigint }>(
      `WITH w AS (SELECT (${NOW_MS} / $3::bigint) * $3::bigint AS start)
       INSERT INTO quota_counters AS q (principal_id, metric, window_start_ms, used)
       SELECT $1, $2, w.start, $4::bigint FROM w WHERE $4::bigint <= $5::bigint AND ($4::bigint > 0 OR $5::bigint > 0)
       ON CONFLICT (principal_id, metric, window_start_ms) DO UPDATE SET used = q.used + EXCLUDED.used
         WHERE q.used + EXCLUDED.used <= $5::bigint AND (EXCLUDED.used > 0 OR q.used < $5::bigint)
       RETURNING used`,
      [principalId, metric, windowMs, cost, quota.limit],
    );
    if (taken) return { allowed: true, used: BigInt(taken.used), remaining: quota.limit - BigInt(taken.used) };
    const [state] = await this.db.query<{ used: bigint | null; wait_ms: bigint }>(
      `WITH w AS (SELECT (${NOW_MS} / $3::bigint) * $3::bigint AS start, ${NOW_MS} AS now)
       SELECT (SELECT used FROM quota_counters WHERE principal_id = $1 AND metric = $2 AND window_start_ms = w.start) AS used,
              w.start + $3::bigint - w.now AS wait_ms
         FROM w`,
      [principalId, metric, windowMs],
    );
    return { allowed: false, used: BigInt(state?.used ?? 0n), retryAfterMs: Number(state?.wait_ms ?? windowMs) };
  }

  async add(principalId: string, quota: QuotaLimit, amount: bigint): Promise<void> {
    await this.db.query(
      `INSERT INTO quota_counters AS q (principal_id, metric, window_start_ms, used)
       VALUES ($1, $2, (${NOW_MS} / $3::bigint) * $3::bigint, $4::bigint)
       ON CONFLICT (principal_id, metric, window_start_ms) DO UPDATE SET used = q.used + EXCLUDED.used`,
      [principalId, `${quota.metric}:${quota.windowSeconds}`, BigInt(quota.windowSeconds) * 1000n, amount],
    );
  }

  /** Deletes windows that ended more than `olderThanSeconds` ago. */
  async prune(olderThanSeconds: number): Promise<number> {
    const rows = await this.db.query(`DELETE FROM quota_counters WHERE window_start_ms < ${NOW_MS} - $1::bigint RETURNING 1`, [BigInt(olderThanSeconds) * 1000n]);
    return rows.length;
  }
}
