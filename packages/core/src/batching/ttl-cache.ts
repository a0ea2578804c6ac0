/**
 * @module batching/ttl-cache
 * A small, bounded cache whose entries live a fixed time. The hot path uses it only for data whose
 * staleness is harmless because the database still decides (a cached grant cannot slip past a
 * revocation: the ledger's gate refuses the hold).
 */

/** A source of generations: entries loaded under an older generation are stale (config-epoch.ts). */
export interface Generations {
  readonly generation: number;
  current(): Promise<number>;
}

export interface TtlCacheOptions {
  ttlMs: number;
  /** Entries also expire when this moves on (a change anywhere, seen within its freshness bound). */
  generations?: Generations;
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
  readonly #entries = new Map<string, { at: number; generation: number; value: V }>();
  readonly #loading = new Map<string, { generation: number; promise: Promise<V> }>();
  readonly #ttlMs: number;
  readonly #entriesMax: number;
  readonly #now: () => number;
  readonly #generations: Generations | undefined;

  constructor(options: TtlCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#generations = options.generations;
    this.#entriesMax = options.entriesMax;
    this.#now = options.now ?? Date.now;
  }

  get(key: string): V | undefined {
    return this.#fresh(key, this.#generations?.generation ?? 0)?.value;
  }

  set(key: string, value: V, generation = this.#generations?.generation ?? 0): void {
    if (this.#entries.size >= this.#entriesMax) this.#entries.clear();
    this.#entries.set(key, { at: this.#now(), generation, value });
  }

  /** Loads through the cache; concurrent misses for one key share the same load. */
  async load(key: string, load: () => Promise<V>): Promise<V> {
    const generation = this.#generations ? await this.#generations.current() : 0;
    const hit = this.#fresh(key, generation);
    if (hit) {
      if (this.#now() - hit.at >= this.#ttlMs / 2 && !this.#loading.has(key)) this.#start(key, load, generation).catch(() => {});
      return hit.value;
    }
    const loading = this.#loading.get(key);
    return loading && loading.generation === generation ? loading.promise : this.#start(key, load, generation);
  }

  clear(): void {
    this.#entries.clear();
    // A load already running may have read the old value: it must not land after a clear.
    this.#loading.clear();
    this.#cleared += 1;
  }

  #cleared = 0;

  #fresh(key: string, generation: number): { at: number; value: V } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.generation !== generation || this.#now() - entry.at >= this.#ttlMs) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #start(key: string, load: () => Promise<V>, generation: number): Promise<V> {
    const cleared = this.#cleared;
    const promise: Promise<V> = load().then(
      (value) => {
        if (this.#loading.get(key)?.promise === promise) this.#loading.delete(key);
        if (cleared === this.#cleared) this.set(key, value, generation);
        return value;
      },
      (error: unknown) => {
        if (this.#loading.get(key)?.promise === promise) this.#loading.delete(key);
        throw error;
      },
    );
    this.#loading.set(key, { generation, promise });
    return promise;
  }
}
