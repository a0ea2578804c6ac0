/**
 * @module quota/quotas
 * Which quota applies to a principal (its own, set through the admin API, else the configured
 * default, else none) and the check the edges run before authorize. The check fails closed: when
 * the quota store cannot answer, the call is refused with `quota_unavailable` (503) rather than let
 * through unmetered.
 */
import { configEpoch, TollgateError, TtlCache, type Db } from '@tollgate/core';
import type { QuotaDecision, QuotaLimit, QuotaMetric, QuotaStore } from './types.ts';

/**
 * How long a principal's quota setting is reused at most; a change in any process drops it within
 * core's `CONFIG_FRESH_MS` (the config epoch).
 */
export const QUOTA_SETTINGS_CACHE_MS = 60_000;
/** Most cached settings (past it the cache starts over). */
const QUOTA_SETTINGS_CACHED_MAX = 100_000;
/** Seconds a client should wait when the quota store is unreachable. */
const UNAVAILABLE_RETRY_SECONDS = 1;

export interface QuotaSetting extends QuotaLimit {
  principalId: string;
  updatedAt: Date;
}

interface Row {
  principal_id: string;
  metric: QuotaMetric;
  limit_value: bigint;
  window_seconds: number;
  updated_at: Date;
}

export interface QuotasOptions {
  db: Db;
  store: QuotaStore;
  /** The quota of principals without their own; none when omitted. */
  defaultLimit?: QuotaLimit;
}

export class Quotas {
  readonly store: QuotaStore;
  readonly #o: QuotasOptions;
  readonly #cache: TtlCache<QuotaLimit | undefined>;

  constructor(options: QuotasOptions) {
    this.#o = options;
    this.store = options.store;
    this.#cache = new TtlCache({ ttlMs: QUOTA_SETTINGS_CACHE_MS, entriesMax: QUOTA_SETTINGS_CACHED_MAX, generations: configEpoch(options.db) });
  }

  /**
   * Runs before authorize. A calls quota takes one call from the window; a units quota only asks
   * whether the window has units left (they are added after the call, `recordUnits`). Throws
   * `quota_exceeded` (429, Retry-After) or `quota_unavailable` (503).
   */
  async check(principalId: string): Promise<void> {
    let limit: QuotaLimit | undefined;
    let decision: QuotaDecision;
    try {
      limit = await this.limitFor(principalId);
      if (!limit) return;
      decision = await this.store.consume(principalId, limit, limit.metric === 'calls' ? 1n : 0n);
    } catch (error) {
      throw new TollgateError('quota_unavailable', `The quota store (${this.store.kind}) cannot be reached, so the call was not attempted; retry shortly`, { store: this.store.kind, retryAfterSeconds: UNAVAILABLE_RETRY_SECONDS }, { cause: error });
    }
    if (decision.allowed) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
    throw new TollgateError('quota_exceeded', `The ${limit.metric} quota of ${limit.limit} per ${limit.windowSeconds} s is used up (used ${decision.used}); retry in ${retryAfterSeconds} s`, {
      metric: limit.metric, limit: limit.limit.toString(), used: decision.used.toString(), windowSeconds: limit.windowSeconds, retryAfterSeconds,
    });
  }

  /**
   * Units a call captured at `at` used, for principals under a units quota. Usage older than the
   * window is not counted (it belongs to a window that is over: history exported late, or a sink
   * added later, must not fill today's window). Never throws (metering is off the call path).
   */
  async recordUnits(principalId: string, units: bigint, at: Date): Promise<void> {
    if (units <= 0n) return;
    const limit = await this.limitFor(principalId).catch(() => undefined);
    if (limit?.metric !== 'units' || Date.now() - at.getTime() > limit.windowSeconds * 1000) return;
    await this.store.add(principalId, limit, units).catch(() => {});
  }

  limitFor(principalId: string): Promise<QuotaLimit | undefined> {
    return this.#cache.load(principalId, async () => {
      const own = await this.get(principalId);
      return own ? { metric: own.metric, limit: own.limit, windowSeconds: own.windowSeconds } : this.#o.defaultLimit;
    });
  }

  async get(principalId: string): Promise<QuotaSetting | undefined> {
    const [row] = await this.#o.db.query<Row>('SELECT * FROM quota_limits WHERE principal_id = $1', [principalId]);
    return row ? settingOf(row) : undefined;
  }

  async set(principalId: string, limit: QuotaLimit): Promise<QuotaSetting> {
    const [row] = await this.#o.db.query<Row>(
      `INSERT INTO quota_limits (principal_id, metric, limit_value, window_seconds) VALUES ($1, $2, $3, $4)
       ON CONFLICT (principal_id) DO UPDATE SET metric = EXCLUDED.metric, limit_value = EXCLUDED.limit_value, window_seconds = EXCLUDED.window_seconds, updated_at = now()
       RETURNING *`,
      [principalId, limit.metric, limit.limit, limit.windowSeconds],
    );
    configEpoch(this.#o.db).bump();
    return settingOf(row!);
  }

  /** Removes the principal's own quota (the default applies again). Returns whether there was one. */
  async remove(principalId: string): Promise<boolean> {
    const rows = await this.#o.db.query('DELETE FROM quota_limits WHERE principal_id = $1 RETURNING principal_id', [principalId]);
    configEpoch(this.#o.db).bump();
    return rows.length > 0;
  }
}

function settingOf(row: Row): QuotaSetting {
  return { principalId: row.principal_id, metric: row.metric, limit: BigInt(row.limit_value), windowSeconds: row.window_seconds, updatedAt: new Date(row.updated_at) };
}
