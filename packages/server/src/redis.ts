/**
 * @module redis
 * One way to open Redis for quotas and usage streams. Commands fail at once while the connection
 * is down (no offline queue, no per-command retries): a quota check must answer "unavailable" in
 * milliseconds, not hang a paid call, and a usage sink has its own retries.
 */
import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

/** Longest one Redis command may take before it counts as failed. */
export const REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** Longest a connection attempt may take. */
export const REDIS_CONNECT_TIMEOUT_MS = 2_000;
/** Longest pause between reconnection attempts. */
const REDIS_RECONNECT_DELAY_MS_MAX = 2_000;

export interface OpenRedisOptions {
  commandTimeoutMs?: number;
  logger?: Logger;
}

export function openRedis(url: string, options: OpenRedisOptions = {}): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 100, REDIS_RECONNECT_DELAY_MS_MAX),
  });
  let reported = false;
  // Without a listener ioredis prints every connection error; log the first of each outage only.
  redis.on('error', (error: Error) => {
    if (!reported) options.logger?.warn({ err: error.message }, 'redis unavailable');
    reported = true;
  });
  redis.on('ready', () => {
    reported = false;
  });
  return redis;
}

/** Resolves once the connection is ready, or false after `timeoutMs` (the caller decides what that means). */
export function redisReady(redis: Redis, timeoutMs = REDIS_CONNECT_TIMEOUT_MS): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}
