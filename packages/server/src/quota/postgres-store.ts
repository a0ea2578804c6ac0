/**
 * @module quota/postgres-store
 * Quota counters in Postgres, for deployments without Redis: one row per principal, metric and
 * fixed window in `quota_counters`. Decisions are group-committed (core's `Batcher`): every check
 * that arrives while a batch runs goes into the next one, which locks its counter rows (in key
 * order, so batches in several processes never deadlock), decides each check in arrival order in
 * memory, writes the new counts with one statement and commits once. A hot principal therefore
 * costs one commit per batch rather than one per call, and exactly `limit` calls fit however many
 * processes race. The window comes from the database's clock. Fixed windows only; old windows are
 * pruned in the background.
 */
import { Batcher, type Db, type Queryable } from '@tollgate/core';
import type { QuotaDecision, QuotaLimit, QuotaStore } from './types.ts';

const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
/** Most checks one batch decides. */
export const QUOTA_BATCH_SIZE_MAX = 500;

interface Check {
  principalId: string;
  quota: QuotaLimit;
  cost: bigint;
}

/** The counter a check touches: the metric name carries the window length, so changing a window starts a fresh count. */
const metricKey = (quota: QuotaLimit) => `${quota.metric}:${quota.windowSeconds}`;

export class PostgresQuotaStore implements QuotaStore {
  readonly kind = 'postgres';
  readonly #batcher: Batcher<Check, QuotaDecision>;

  constructor(readonly db: Db) {
    this.#batcher = new Batcher((checks) => db.transaction((tx) => decide(tx, checks)), { sizeMax: QUOTA_BATCH_SIZE_MAX });
  }

  consume(principalId: string, quota: QuotaLimit, cost: bigint): Promise<QuotaDecision> {
    return this.#batcher.submit({ principalId, quota, cost });
  }

  async add(principalId: string, quota: QuotaLimit, amount: bigint): Promise<void> {
    await this.db.query(
      `INSERT INTO quota_counters AS q (principal_id, metric, window_start_ms, used)
       VALUES ($1, $2, (${NOW_MS} / $3::bigint) * $3::bigint, $4::bigint)
       ON CONFLICT (principal_id, metric, window_start_ms) DO UPDATE SET used = q.used + EXCLUDED.used`,
      [principalId, metricKey(quota), BigInt(quota.windowSeconds) * 1000n, amount],
    );
  }

  /** Deletes windows that ended more than `endedSecondsAgo` ago (each row by its own window length). */
  async prune(endedSecondsAgo: number): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM quota_counters WHERE window_start_ms + split_part(metric, ':', 2)::bigint * 1000 < ${NOW_MS} - $1::bigint RETURNING 1`,
      [BigInt(endedSecondsAgo) * 1000n],
    );
    return rows.length;
  }
}

interface Counter {
  principal_id: string;
  metric: string;
  window_start_ms: bigint;
  used: bigint;
  now_ms: bigint;
  window_ms: bigint;
}

/** Decides a batch of checks in one transaction, in arrival order. */
async function decide(tx: Queryable, checks: readonly Check[]): Promise<QuotaDecision[]> {
  const keys = [...new Map(checks.map((c) => {
    const key = { principal_id: c.principalId, metric: metricKey(c.quota), window_ms: String(c.quota.windowSeconds * 1000) };
    return [`${key.principal_id}\u0000${key.metric}`, key];
  })).values()].sort((a, b) => (a.principal_id === b.principal_id ? cmp(a.metric, b.metric) : cmp(a.principal_id, b.principal_id)));
  // Make sure each counter row exists, then lock them all in key order.
  const rows = await tx.query<Counter>(
    `WITH k AS (SELECT r.principal_id, r.metric, r.window_ms, (${NOW_MS} / r.window_ms) * r.window_ms AS window_start_ms, ${NOW_MS} AS now_ms
                  FROM jsonb_to_recordset($1::jsonb) AS r(principal_id text, metric text, window_ms bigint)),
          ins AS (INSERT INTO quota_counters (principal_id, metric, window_start_ms, used)
                  SELECT principal_id, metric, window_start_ms, 0 FROM k ORDER BY principal_id, metric
                  ON CONFLICT (principal_id, metric, window_start_ms) DO NOTHING)
     SELECT k.principal_id, k.metric, k.window_start_ms, k.now_ms, k.window_ms FROM k`,
    [JSON.stringify(keys)],
  );
  const locked = await tx.query<{ principal_id: string; metric: string; used: bigint }>(
    `SELECT q.principal_id, q.metric, q.used FROM quota_counters q
       JOIN jsonb_to_recordset($1::jsonb) AS r(principal_id text, metric text, window_start_ms bigint)
         ON q.principal_id = r.principal_id AND q.metric = r.metric AND q.window_start_ms = r.window_start_ms
      ORDER BY q.principal_id, q.metric FOR UPDATE OF q`,
    [JSON.stringify(rows.map((r) => ({ principal_id: r.principal_id, metric: r.metric, window_start_ms: String(r.window_start_ms) })))],
  );
  const window = new Map(rows.map((r) => [`${r.principal_id}\u0000${r.metric}`, r]));
  const before = new Map(locked.map((r) => [`${r.principal_id}\u0000${r.metric}`, BigInt(r.used)]));
  const used = new Map(before);
  const decisions = checks.map((check): QuotaDecision => {
    const key = `${check.principalId}\u0000${metricKey(check.quota)}`;
    const now = used.get(key) ?? 0n;
    const { limit } = check.quota;
    if (now + check.cost <= limit && (check.cost > 0n || now < limit)) {
      used.set(key, now + check.cost);
      return { allowed: true, used: now + check.cost, remaining: limit - now - check.cost };
    }
    const w = window.get(key)!;
    return { allowed: false, used: now, retryAfterMs: Number(BigInt(w.window_start_ms) + BigInt(w.window_ms) - BigInt(w.now_ms)) };
  });
  const changed = [...used].filter(([key, value]) => value !== before.get(key));
  if (changed.length > 0) {
    await tx.query(
      `UPDATE quota_counters q SET used = r.used FROM jsonb_to_recordset($1::jsonb) AS r(principal_id text, metric text, window_start_ms bigint, used bigint)
        WHERE q.principal_id = r.principal_id AND q.metric = r.metric AND q.window_start_ms = r.window_start_ms`,
      [JSON.stringify(changed.map(([key, value]) => {
        const w = window.get(key)!;
        return { principal_id: w.principal_id, metric: w.metric, window_start_ms: String(w.window_start_ms), used: value.toString() };
      }))],
    );
  }
  return decisions;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
