/**
 * @module batching/ttl-cache
 * A small, bounded cache whose entries live a fixed time. The hot path uses it only for data whose
 * staleness is harmless because the database still decides (a cached grant cannot slip past a
 * revocation: the ledger's gate refuses the hold).
 */

export interface TtlCacheOptions {
  ttlMs: number;
  /** Most entries kept; when full, the cache starts over (cheaper than tracking use). */
  entriesMax: number;
  now?: () => number;
}

export class TtlCache<V> {
  readonly #entries = new Map<string, { at: number; value: V }>();
  readonly #ttlMs: number;
  readonly #entriesMax: number;
  readonly #now: () => number;

  constructor(options: TtlCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#entriesMax = options.entriesMax;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#now() - entry.at >= this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    if (this.#entries.size >= this.#entriesMax) this.#entries.clear();
    this.#entries.set(key, { at: this.#now(), value });
  }

  /** Loads through the cache; concurrent misses for one key share the same load. */
  async load(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const pending = this.#loading.get(key);
    if (pending) return pending;
    const promise = load().then(
      (value) => {
        this.#loading.delete(key);
        this.set(key, value);
        return value;
      },
      (error: unknown) => {
        this.#loading.delete(key);
        throw error;
      },
    );
    this.#loading.set(key, promise);
    return promise;
  }

  readonly #loading = new Map<string, Promise<V>>();

  clear(): void {
    this.#entries.clear();
  }
}
