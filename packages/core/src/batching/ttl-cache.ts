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

/**
 * `load()` refreshes ahead: an entry past half its life is still served while one background load
 * replaces it, so under steady traffic no caller waits on a reload (on a busy pool that wait is a
 * queue for a connection), and nothing served is ever older than `ttlMs`.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, { at: number; value: V }>();
  readonly #loading = new Map<string, Promise<V>>();
  readonly #ttlMs: number;
  readonly #entriesMax: number;
  readonly #now: () => number;

  constructor(options: TtlCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#entriesMax = options.entriesMax;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): V | undefined {
    return this.#fresh(key)?.value;
  }

  set(key: string, value: V): void {
    if (this.#entries.size >= this.#entriesMax) this.#entries.clear();
    this.#entries.set(key, { at: this.#now(), value });
  }

  /** Loads through the cache; concurrent misses for one key share the same load. */
  async load(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.#fresh(key);
    if (hit) {
      if (this.#now() - hit.at >= this.#ttlMs / 2 && !this.#loading.has(key)) this.#start(key, load).catch(() => {});
      return hit.value;
    }
    return this.#loading.get(key) ?? this.#start(key, load);
  }

  clear(): void {
    this.#entries.clear();
    // A load already running may have read the old value: it must not land after a clear.
    this.#loading.clear();
    this.#generation += 1;
  }

  #generation = 0;

  #fresh(key: string): { at: number; value: V } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#now() - entry.at >= this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #start(key: string, load: () => Promise<V>): Promise<V> {
    const generation = this.#generation;
    const promise = load().then(
      (value) => {
        if (this.#loading.get(key) === promise) this.#loading.delete(key);
        if (generation === this.#generation) this.set(key, value);
        return value;
      },
      (error: unknown) => {
        if (this.#loading.get(key) === promise) this.#loading.delete(key);
        throw error;
      },
    );
    this.#loading.set(key, promise);
    return promise;
  }
}
