/**
 * @module quota
 * Per-principal quotas (calls or units per window) checked at the edges before authorize, in Redis
 * when configured (atomic Lua, fails closed) and in Postgres otherwise. See README.md.
 */
export { Quotas, QUOTA_SETTINGS_CACHE_MS, type QuotaSetting, type QuotasOptions } from './quotas.ts';
export { RedisQuotaStore } from './redis-store.ts';
export { PostgresQuotaStore } from './postgres-store.ts';
export { proxyQuota, QuotaUnitsSink } from './edge.ts';
export { quotaRoutes } from './routes.ts';
export { QUOTA_WINDOW_SECONDS_MAX, type QuotaAlgorithm, type QuotaDecision, type QuotaLimit, type QuotaMetric, type QuotaStore } from './types.ts';
