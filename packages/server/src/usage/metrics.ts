/**
 * @module usage/metrics
 * Prometheus gauges read when `/metrics` is scraped (nothing on the call path): for each buffered
 * sink of observed usage its queue, drops and failed attempts; for each export sink of captured
 * usage its failed attempts in a row.
 */
import { Gauge, type Registry } from 'prom-client';
import type { BufferedUsageSink } from './buffered-sink.ts';
import type { UsageExporter } from './exporter.ts';

export function registerUsageMetrics(registry: Registry, options: { buffered: Readonly<Record<string, BufferedUsageSink>>; exporter: UsageExporter }): void {
  // A registry shared by two apps keeps the first app's gauges (names are unique per registry).
  if (registry.getSingleMetric('tollgate_usage_sink_pending')) return;
  const perSink = (name: string, help: string, read: (sink: BufferedUsageSink) => number) => new Gauge({
    name, help, labelNames: ['sink'], registers: [registry],
    collect() {
      for (const [sink, buffered] of Object.entries(options.buffered)) this.set({ sink }, read(buffered));
    },
  });
  perSink('tollgate_usage_sink_pending', 'Observed usage events waiting for a sink', (s) => s.pending);
  perSink('tollgate_usage_sink_dropped', 'Observed usage events dropped because a sink\'s queue was full (since start)', (s) => s.dropped);
  perSink('tollgate_usage_sink_failures', 'Failed delivery attempts to a usage sink (since start)', (s) => s.failures);
  new Gauge({
    name: 'tollgate_usage_export_failing_attempts', help: 'Failed export attempts in a row per sink of captured usage (0 = healthy)', labelNames: ['sink'], registers: [registry],
    collect() {
      for (const s of options.exporter.status()) this.set({ sink: s.name }, s.failingAttempts);
    },
  });
}
