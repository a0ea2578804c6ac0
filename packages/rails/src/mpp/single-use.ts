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
import type { MppReceipt } from './outcome.ts';

/** A paid answer kept for `Idempotency-Key` retries (small bodies only). */
export interface StoredAnswer {
  status: number;
  contentType: string | null;
  /** base64 */
  body: string;
  receipt: MppReceipt;
}

export interface SingleUseStore {
  /** True for the first claim of `key`; false if it was claimed before (and has not expired). */
  claim(key: string, untilMs: number, idempotencyKey?: string): Promise<boolean>;
  /** The answer kept for `key`, if it was claimed with this `idempotencyKey` and answered. */
  answer(key: string, idempotencyKey: string): Promise<StoredAnswer | undefined>;
  /** Keeps the paid answer of a claim made with an idempotency key. */
  remember(key: string, answer: StoredAnswer): Promise<void>;
}

/** Most keys kept in memory; past it, claims are refused until expired keys are swept. */
export const SINGLE_USE_ENTRIES_MAX = 1_000_000;

interface MemoryEntry {
  untilMs: number;
  idempotencyKey?: string;
  answer?: StoredAnswer;
}

export class MemorySingleUse implements SingleUseStore {
  readonly #keys = new Map<string, MemoryEntry>();
  readonly #now: () => number;
  readonly #entriesMax: number;

  constructor(options: { now?: () => number; entriesMax?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#entriesMax = options.entriesMax ?? SINGLE_USE_ENTRIES_MAX;
  }

  async claim(key: string, untilMs: number, idempotencyKey?: string): Promise<boolean> {
    // Check and set with no await between them: concurrent claims in this process are serialized.
    const now = this.#now();
    const entry = this.#keys.get(key);
    if (entry !== undefined && entry.untilMs > now) return false;
    if (this.#keys.size >= this.#entriesMax) this.#sweep(now);
    // Still full of live keys: refusing is safe (the client gets a fresh challenge), forgetting is not.
    if (this.#keys.size >= this.#entriesMax) return false;
    this.#keys.set(key, { untilMs, ...(idempotencyKey ? { idempotencyKey } : {}) });
    return true;
  }

  async answer(key: string, idempotencyKey: string): Promise<StoredAnswer | undefined> {
    const entry = this.#keys.get(key);
    return entry && entry.untilMs > this.#now() && entry.idempotencyKey === idempotencyKey ? entry.answer : undefined;
  }

  async remember(key: string, answer: StoredAnswer): Promise<void> {
    const entry = this.#keys.get(key);
    if (entry) entry.answer = answer;
  }

  get size(): number {
    return this.#keys.size;
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#keys) if (entry.untilMs <= now) this.#keys.delete(key);
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

  async claim(key: string, untilMs: number, idempotencyKey?: string): Promise<boolean> {
    if ((this.#claims = (this.#claims + 1) % SWEEP_EVERY_CLAIMS) === 0) {
      await this.#db.query('DELETE FROM mpp_used_challenges WHERE until < now()');
    }
    // One statement: a new key inserts; an expired one is taken over; a live one returns no row.
    const rows = await this.#db.query(
      `INSERT INTO mpp_used_challenges (key, until, idempotency_key) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET until = EXCLUDED.until, idempotency_key = EXCLUDED.idempotency_key, answer = NULL, created_at = now()
         WHERE mpp_used_challenges.until < now()
       RETURNING key`,
      [key, new Date(untilMs), idempotencyKey ?? null],
    );
    return rows.length === 1;
  }

  async answer(key: string, idempotencyKey: string): Promise<StoredAnswer | undefined> {
    const [row] = await this.#db.query<{ answer: string | null }>(
      'SELECT answer FROM mpp_used_challenges WHERE key = $1 AND idempotency_key = $2 AND until > now()', [key, idempotencyKey]);
    return row?.answer ? (JSON.parse(row.answer) as StoredAnswer) : undefined;
  }

  async remember(key: string, answer: StoredAnswer): Promise<void> {
    await this.#db.query('UPDATE mpp_used_challenges SET answer = $2 WHERE key = $1', [key, JSON.stringify(answer)]);
  }
}
