/**
 * @module quota/redis-store
 * Quota counters in Redis: one hash per principal and metric, one Lua script per decision, so the
 * read, the check and the increment are one atomic step however many gateway processes share the
 * Redis. The window is computed from Redis's own clock (`TIME`), so processes with skewed clocks
 * still agree on where a window starts. A fixed window counts exactly; a sliding window also keeps
 * the previous window's count and weighs it by the share of it still inside the last
 * `windowSeconds`.
 */
import type { Redis } from 'ioredis';
import type { QuotaAlgorithm, QuotaDecision, QuotaLimit, QuotaStore } from './types.ts';

// KEYS[1] counter hash {s = window start ms, n = count, p = previous window's count}
// ARGV: cost, limit, window ms, sliding (1/0), force (1 = add whatever the limit)
// Returns {allowed, used (the estimate for sliding), retry after ms}.
const CONSUME = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local sliding, force = ARGV[4] == '1', ARGV[5] == '1'
local start = now - (now % window)
local state = redis.call('HMGET', KEYS[1], 's', 'n', 'p')
local s, n, p = tonumber(state[1]), tonumber(state[2]) or 0, tonumber(state[3]) or 0
if s ~= start then
  if s == start - window then p = n else p = 0 end
  n = 0
end
local elapsed = now - start
local carried = 0
if sliding then carried = math.floor(p * (window - elapsed) / window) end
local used = carried + n
local fits = used + cost <= limit and (cost > 0 or used < limit)
if force or fits then
  n = n + cost
  redis.call('HSET', KEYS[1], 's', start, 'n', n, 'p', p)
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return {1, carried + n, 0}
end
local wait = window - elapsed
if sliding and p > 0 and limit - n - cost >= 0 then
  wait = math.max(1, math.ceil(window * (1 - (limit - n - cost) / p)) - elapsed)
end
return {0, used, wait}
`;

type Consume = (key: string, cost: string, limit: string, windowMs: string, sliding: string, force: string) => Promise<[number, number, number]>;

export class RedisQuotaStore implements QuotaStore {
  readonly kind = 'redis';
  readonly #redis: Redis & { tollgateQuota?: Consume };
  readonly #prefix: string;
  readonly #algorithm: QuotaAlgorithm;

  constructor(options: { redis: Redis; prefix?: string; algorithm?: QuotaAlgorithm }) {
    this.#redis = options.redis;
    this.#prefix = options.prefix ?? 'tollgate:quota';
    this.#algorithm = options.algorithm ?? 'fixed';
    if (!this.#redis.tollgateQuota) this.#redis.defineCommand('tollgateQuota', { numberOfKeys: 1, lua: CONSUME });
  }

  async consume(principalId: string, quota: QuotaLimit, cost: bigint): Promise<QuotaDecision> {
    const [allowed, used, waitMs] = await this.#run(principalId, quota, cost, false);
    return allowed === 1 ? { allowed: true, used: BigInt(used), remaining: quota.limit - BigInt(used) } : { allowed: false, used: BigInt(used), retryAfterMs: waitMs };
  }

  async add(principalId: string, quota: QuotaLimit, amount: bigint): Promise<void> {
    await this.#run(principalId, quota, amount, true);
  }

  #run(principalId: string, quota: QuotaLimit, cost: bigint, force: boolean): Promise<[number, number, number]> {
    // The window length is part of the key: changing a principal's window starts a fresh count.
    const key = `${this.#prefix}:${quota.metric}:${quota.windowSeconds}:${principalId}`;
    return this.#redis.tollgateQuota!(key, cost.toString(), quota.limit.toString(), String(quota.windowSeconds * 1000), this.#algorithm === 'sliding' ? '1' : '0', force ? '1' : '0');
  }
}
