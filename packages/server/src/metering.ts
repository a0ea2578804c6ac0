/**
 * @module metering
 * Usage sinks, usage export and quotas, built from the configuration in one place so `createApp`
 * and `tollgate serve` only plug them in:
 *
 * - observed usage (every call, refused ones too) → `usage_events`, plus a JSON Lines file when
 *   `usageJsonl` is set; buffered, off the call path;
 * - captured usage → the outbox → units quotas, Stripe meter events (`stripeSecretKey` +
 *   `stripeMeterEventName`) and a Redis stream (`usageRedisStream`), once per capture, in the
 *   background;
 * - quotas: in Redis when `redisUrl` is set (fail closed), else in the database.
 */
import type { Redis } from 'ioredis';
import type { MiddlewareHandler } from 'hono';
import { TollgateError, type Tollgate, type UsageSink } from '@tollgate/core';
import { openStripe, StripeCustomers, StripeMeterSink, StripeMeterStreamSink } from '@tollgate/rails/stripe';
import type { RouteDef } from './admin/route.ts';
import type { Config } from './config/index.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics/index.ts';
import { PostgresQuotaStore, proxyQuota, QuotaUnitsSink, Quotas, quotaRoutes, RedisQuotaStore } from './quota/index.ts';
import { openRedis } from './redis.ts';
import { stripeCustomerRoutes } from './stripe-routes.ts';
import { BufferedUsageSink, CompositeUsageSink, JsonLinesUsageSink, PostgresUsageSink, RedisStreamUsageSink, registerUsageMetrics, UsageExporter, usageExportRoutes } from './usage/index.ts';

/** How often Postgres quota windows that are over are deleted, and how long after they ended. */
const QUOTA_PRUNE_INTERVAL_MS = 10 * 60_000;
const QUOTA_PRUNE_AFTER_SECONDS = 3_600;

export interface Metering {
  /** Where the edges write observed usage. */
  usage: UsageSink;
  quotas: Quotas;
  /** Runs before the proxy (and so before authorize): refuses principals over quota. */
  proxyQuota: MiddlewareHandler;
  /** Exports captured usage to units quotas and the configured downstream sinks. */
  exporter: UsageExporter;
  routes: RouteDef[];
  redis: Redis | undefined;
  /** Starts the background work (usage export, quota pruning); returns the stop function. */
  start(): () => Promise<void>;
  close(): Promise<void>;
}

export function createMetering(options: { tg: Tollgate; config: Config; logger: Logger; metrics?: Metrics }): Metering {
  const { tg, config, logger } = options;
  checkConfig(config);
  const redis = config.redisUrl ? openRedis(config.redisUrl, { logger }) : undefined;
  const quotaStore = redis ? new RedisQuotaStore({ redis, algorithm: config.quotaAlgorithm }) : new PostgresQuotaStore(tg.db);
  const quotas = new Quotas({
    db: tg.db, store: quotaStore,
    ...(config.quotaLimit === undefined ? {} : { defaultLimit: { metric: config.quotaMetric, limit: BigInt(config.quotaLimit), windowSeconds: config.quotaWindowSeconds } }),
  });
  const onError = (sink: string) => (error: unknown) => logger.warn({ sink, err: (error as Error)?.message ?? String(error) }, 'usage sink failed; retrying');
  const buffered: Record<string, BufferedUsageSink> = { usage_events: new PostgresUsageSink(tg.db, { onError: onError('usage_events') }) };
  if (config.usageJsonl) buffered.jsonl = new BufferedUsageSink(new JsonLinesUsageSink(config.usageJsonl), { onError: onError('jsonl') });
  const usage = new CompositeUsageSink(Object.values(buffered));
  const customers = new StripeCustomers(tg.db);
  const exportSinks: Record<string, UsageSink> = { 'quota-units': new QuotaUnitsSink(quotas) };
  if (config.stripeSecretKey && config.stripeMeterEventName) {
    const apiBase = config.stripeApiBase ? { apiBase: config.stripeApiBase } : {};
    const stripe = openStripe({ secretKey: config.stripeSecretKey, ...apiBase });
    const meter = { stripe, customers, eventName: config.stripeMeterEventName, value: config.stripeMeterValue };
    // One cursor for either API: switching keeps the place, and Stripe dedupes on the identifier.
    exportSinks[`stripe:${config.stripeMeterEventName}`] = config.stripeMeterApi === 'v2'
      ? new StripeMeterStreamSink({ ...meter, sessionClient: (token) => openStripe({ secretKey: token, ...apiBase }) })
      : new StripeMeterSink(meter);
  }
  if (redis && config.usageRedisStream) {
    exportSinks[`redis:${config.usageRedisStream}`] = new RedisStreamUsageSink({ redis, stream: config.usageRedisStream, lengthMax: config.usageRedisStreamLengthMax });
  }
  const exporter = new UsageExporter({ db: tg.db, sinks: exportSinks, intervalMs: config.usageExportIntervalMs, logger });
  if (options.metrics) registerUsageMetrics(options.metrics.registry, { buffered, exporter });
  return {
    usage, quotas, exporter, redis,
    proxyQuota: proxyQuota({ tg, quotas }),
    routes: [...quotaRoutes({ tg, quotas }), ...stripeCustomerRoutes({ tg, customers }), ...usageExportRoutes({ db: tg.db })],
    start() {
      const stopExport = exporter.start();
      const prune = quotaStore instanceof PostgresQuotaStore
        ? setInterval(() => void quotaStore.prune(QUOTA_PRUNE_AFTER_SECONDS).catch(() => {}), QUOTA_PRUNE_INTERVAL_MS).unref()
        : undefined;
      return async () => {
        clearInterval(prune);
        await stopExport();
      };
    },
    async close() {
      await usage.close();
      redis?.disconnect();
    },
  };
}

/** Options that only work together, reported at startup rather than ignored. */
function checkConfig(config: Config): void {
  const problems: string[] = [];
  if (config.stripeSecretKey && !config.stripeMeterEventName) problems.push('stripeMeterEventName: required with stripeSecretKey');
  if (config.stripeMeterEventName && !config.stripeSecretKey) problems.push('stripeSecretKey: required with stripeMeterEventName');
  if (config.usageRedisStream && !config.redisUrl) problems.push('usageRedisStream: needs redisUrl');
  if (config.quotaAlgorithm === 'sliding' && !config.redisUrl) problems.push('quotaAlgorithm: sliding needs redisUrl (the database store counts fixed windows)');
  if (problems.length > 0) throw new TollgateError('invalid_request', `invalid configuration:\n  ${problems.join('\n  ')}`, { field: 'config', issues: problems });
}
