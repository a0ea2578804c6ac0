/**
 * @module config
 * Server configuration (see config.ts and docs/http.md).
 */
export { ConfigSchema, loadConfig, envName, demoEnabled, type Config, type ConfigInput, type LoadConfigOptions } from './config.ts';
