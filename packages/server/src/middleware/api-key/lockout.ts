/**
 * @module middleware/api-key/lockout
 * Locks out a source after repeated failed authentications. Failures are counted per client IP and
 * key prefix (the first characters of what was presented), so one noisy client cannot lock out a
 * whole office, and a guessing client is stopped whatever it guesses. Kept in memory per process:
 * behind N processes an attacker gets at most N × the limit, which the limit is chosen for.
 */

export interface LockoutOptions {
  failuresMax: number;
  windowMs: number;
  durationMs: number;
  /** Most sources tracked; the oldest are dropped beyond this. */
  sourcesMax?: number;
  now?: () => number;
}

interface Entry {
  failures: number[];
  lockedUntil: number;
}

export class Lockout {
  readonly #o: Required<LockoutOptions>;
  readonly #entries = new Map<string, Entry>();

  constructor(options: LockoutOptions) {
    this.#o = { sourcesMax: 100_000, now: Date.now, ...options };
  }

  static source(ip: string, presented: string): string {
    return `${ip}|${presented.slice(0, 12)}`;
  }

  /** Milliseconds left on a lockout of `source`, or 0. */
  lockedForMs(source: string): number {
    const entry = this.#entries.get(source);
    if (!entry) return 0;
    return Math.max(0, entry.lockedUntil - this.#o.now());
  }

  /** Records a failure; returns the lockout length when this failure started one. */
  fail(source: string): number {
    const now = this.#o.now();
    let entry = this.#entries.get(source);
    if (!entry) {
      if (this.#entries.size >= this.#o.sourcesMax) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
      entry = { failures: [], lockedUntil: 0 };
      this.#entries.set(source, entry);
    }
    entry.failures = entry.failures.filter((t) => now - t < this.#o.windowMs);
    entry.failures.push(now);
    if (entry.failures.length >= this.#o.failuresMax) {
      entry.lockedUntil = now + this.#o.durationMs;
      entry.failures = [];
      return this.#o.durationMs;
    }
    return 0;
  }

  succeed(source: string): void {
    const entry = this.#entries.get(source);
    if (entry && entry.lockedUntil <= this.#o.now()) this.#entries.delete(source);
  }
}
