/**
 * @module @tollgate/server
 * The Tollgate server: paid HTTP proxy, admin API (OpenAPI at /openapi.json), metrics, and the
 * `tollgate` CLI. Depends on @tollgate/core; nothing depends on it.
 */
export { createApp, type CreateAppOptions, type TollgateApp } from './app.ts';
export { startServer, type RunningServer } from './server.ts';
export { loadConfig, ConfigSchema, envName, type Config, type ConfigInput } from './config/index.ts';
export { createLogger, REDACT_PATHS, type Logger } from './logger.ts';
export { createMetrics, type Metrics } from './metrics/index.ts';
export { ApiKeys, Lockout, CreateApiKeySchema, type ApiKeyPrincipal, type Role } from './middleware/api-key/index.ts';
export { proxy, type ProxyOptions, type ProxyLimits } from './proxy/index.ts';
export { problemResponse, PROBLEM_CONTENT_TYPE } from './middleware/problem/index.ts';
