/**
 * @module quota/types
 * A quota caps how much one principal (the grant's user) may use per window: calls, or units.
 * Quotas are checked at the edges before the guard authorizes anything, so a principal over quota
 * costs no hold and no ledger write. They are about load and fairness, not money: budgets stay the
 * ledger's business.
 */

export type QuotaMetric = 'calls' | 'units';
/** `fixed`: a counter per window (exact). `sliding`: the previous window's count weighted by how much of it still overlaps (smooth at window edges; Redis only). */
export type QuotaAlgorithm = 'fixed' | 'sliding';

export interface QuotaLimit {
  metric: QuotaMetric;
  /** Calls, or units, per window. */
  limit: bigint;
  windowSeconds: number;
}

export type QuotaDecision =
  | { allowed: true; used: bigint; remaining: bigint }
  | { allowed: false; used: bigint; retryAfterMs: number };

/** Where counters live: Redis (atomic Lua) or Postgres (atomic conditional upsert). */
export interface QuotaStore {
  readonly kind: 'redis' | 'postgres';
  /**
   * Takes `cost` from the principal's window when it fits, atomically. A cost of 0 only asks
   * whether anything is left (used < limit). Rejects when the store is unreachable.
   */
  consume(principalId: string, quota: QuotaLimit, cost: bigint): Promise<QuotaDecision>;
  /** Adds usage measured after the fact (units), whatever the limit. */
  add(principalId: string, quota: QuotaLimit, amount: bigint): Promise<void>;
  close?(): Promise<void>;
}

/** Bounds of a window. */
export const QUOTA_WINDOW_SECONDS_MAX = 366 * 24 * 3600;
