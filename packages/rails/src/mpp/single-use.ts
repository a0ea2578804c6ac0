/**
 * @module mpp/single-use
 * Challenges and proofs are single-use (core spec §"Replay Protection", §"Concurrent Request
 * Handling"): the first request to claim a key wins, every later or concurrent one is refused. mppx
 * leaves this to "custom settlers" (and then accepts a replay); Tollgate claims before it verifies,
 * delivers or settles, so one credential yields at most one settlement and one delivery.
 *
 * A key is kept until the challenge it belongs to has expired (a later request fails the expiry
 * check anyway), so memory is bounded by the challenges alive at once, capped at `entriesMax`.
 * The store is per process; several gateway processes need a shared store behind this interface.
 */

export interface SingleUseStore {
  /** True for the first claim of `key`; false if it was claimed before (and has not expired). */
  claim(key: string, untilMs: number): boolean;
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

  claim(key: string, untilMs: number): boolean {
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
