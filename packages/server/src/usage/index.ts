/**
 * @module usage
 * The metering seam. Two streams leave it:
 *
 * - **Observed usage**: every call an edge answers (refused calls too, with their code and a charge
 *   of zero) becomes one `UsageEvent`, fanned out (`CompositeUsageSink`) to buffered sinks that never
 *   block or fail the call: `usage_events` in Postgres, a JSON Lines file, memory.
 * - **Captured usage**, exactly once: the outbox copies each capture from the audit log, keyed by the
 *   capture id, and a drainer per sink delivers it at least once with that id as the idempotency key
 *   (Stripe meter events, a Redis stream, …). See README.md.
 */
export type { UsageEvent, UsageRejection, UsageSink, UsageStatus } from '@tollgate/core';
export { proxyUsage } from './proxy-meter.ts';
export { MemoryUsageSink } from './memory-sink.ts';
export { JsonLinesUsageSink, usageJson } from './json-lines-sink.ts';
export { PostgresUsageSink, UsageEventsTable } from './postgres-sink.ts';
export { BufferedUsageSink, USAGE_BATCH_MAX, USAGE_BUFFER_MAX, type BufferedUsageSinkOptions } from './buffered-sink.ts';
export { CompositeUsageSink, UsageMeter } from './composite-sink.ts';
export { RedisStreamUsageSink, USAGE_STREAM_LENGTH_MAX, USAGE_STREAM_DEDUPE_TTL_SECONDS, streamFields, type RedisStreamUsageSinkOptions } from './redis-stream-sink.ts';
export { UsageOutbox, OUTBOX_FILL_MAX, type OutboxEntry } from './outbox.ts';
export { OutboxDrainer, DRAIN_BATCH_MAX, DRAIN_LEASE_MS, type DrainStep, type OutboxDrainerOptions } from './outbox-drainer.ts';
export { UsageExporter, EXPORT_INTERVAL_MS, type UsageExporterOptions, type SinkStatus } from './exporter.ts';
export { backoffDelayMs, BACKOFF_BASE_MS, BACKOFF_DELAY_MS_MAX, type BackoffOptions } from './backoff.ts';
export { deliver, PartialDelivery } from './deliver.ts';
export { usageExportRoutes } from './routes.ts';
export { registerUsageMetrics } from './metrics.ts';
