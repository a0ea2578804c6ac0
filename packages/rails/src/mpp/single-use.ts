/**
 * @module mpp/single-use
 * Challenges and proofs are single-use (core spec §"Replay Protection", §"Concurrent Request
 * Handling"): the first request to claim a key wins, every later or concurrent one is refused. mppx
 * leaves this to "custom settlers" (and then accepts a replay); Tollgate claims before it verifies,
 * delivers or settles, so one credential yields at most one settlement and one delivery.
 *
 * A key is kept until the challenge it belongs to has expired (a later request fails the expiry
 * check anyway). `SqlSingleUse` (table `mpp_used_challenges`, migration 009) holds across gateway
 * processes and restarts; `MemorySingleUse` is for one process (tests, a single gateway).
 */
import type { Db } from '@tollgate/core';

export interface SingleUseStore {
  /** True for the first claim of `key`; false if it was claimed before (and has not expired). */
  claim(key: string, untilMs: number): Promise<boolean>;
}

/** Most keys kept in memory; past it, claims are refused until expired keys are swept. */
export const SINGLE_USE_ENTRIES_MAX = 1_000_000;

export class MemorySingleUse implements SingleUseStore {
  readonly #keys = new Map<string, number>();
  readonly #now: () => number;
  readonly #entriesMax: number;

  constructor(options: { now?: () => number; entriesMax?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#entriesMax = options.entriesMax ?? SINGLE_USE_ENTRIES_MAX;
  }

  async claim(key: string, untilMs: number): Promise<boolean> {
    // Check and set with no await between them: concurrent claims in this process are serialized.
    const now = this.#now();
    const until = this.#keys.get(key);
    if (until !== undefined && until > now) return false;
    if (this.#keys.size >= this.#entriesMax) this.#sweep(now);
    // Still full of live keys: refusing is safe (the client gets a fresh challenge), forgetting is not.
    if (this.#keys.size >= this.#entriesMax) return false;
    this.#keys.set(key, untilMs);
    return true;
  }

  get size(): number {
    return this.#keys.size;
  }

  #sweep(now: number): void {
    for (const [key, until] of this.#keys) if (until <= now) this.#keys.delete(key);
  }
}

/** Claims between sweeps of expired rows. */
const SWEEP_EVERY_CLAIMS = 1_000;

export class SqlSingleUse implements SingleUseStore {
  readonly #db: Db;
  #claims = 0;

  constructor(db: Db) {
    this.#db = db;
  }

  async claim(key: string, untilMs: number): Promise<boolean> {
    if ((this.#claims = (this.#claims + 1) % SWEEP_EVERY_CLAIMS) === 0) {
      await this.#db.query('DELETE FROM mpp_used_challenges WHERE until < now()');
    }
    // One statement: a new key inserts; an expired one is taken over; a live one returns no row.
    const rows = await this.#db.query(
      `INSERT INTO mpp_used_challenges (key, until) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET until = EXCLUDED.until, created_at = now() WHERE mpp_used_challenges.until < now()
       RETURNING key`,
      [key, new Date(untilMs)],
    );
    return rows.length === 1;
  }
}
