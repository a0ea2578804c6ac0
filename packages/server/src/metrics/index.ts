/**
 * @module metrics
 * Prometheus metrics on a registry of this app's own, so two apps in one process (tests, the
 * benchmark) never share counters. Labels are bounded: the service slug and an outcome word.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  proxyCalls: Counter<'service' | 'outcome'>;
  proxyDuration: Histogram<'service'>;
  upstreamDuration: Histogram<'service'>;
  mcpToolCalls: Counter<'service' | 'outcome'>;
  mcpToolDuration: Histogram<'service'>;
  chargedMicros: Counter<'service'>;
  adminRequests: Counter<'route' | 'status'>;
  authFailures: Counter<'kind'>;
}

export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry, prefix: 'tollgate_' });
  const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    registry,
    proxyCalls: new Counter({ name: 'tollgate_proxy_calls_total', help: 'Proxied calls by service and outcome (captured, voided, refused, replayed, in_flight)', labelNames: ['service', 'outcome'], registers: [registry] }),
    proxyDuration: new Histogram({ name: 'tollgate_proxy_duration_seconds', help: 'Time from request to upstream answer headers, through the gateway', labelNames: ['service'], buckets, registers: [registry] }),
    upstreamDuration: new Histogram({ name: 'tollgate_upstream_duration_seconds', help: 'Time the upstream took to answer headers', labelNames: ['service'], buckets, registers: [registry] }),
    mcpToolCalls: new Counter({ name: 'tollgate_mcp_tool_calls_total', help: 'Paid MCP tool calls by service and outcome (ok, tool_error, refused, upstream_failed, upstream_timeout, cancelled)', labelNames: ['service', 'outcome'], registers: [registry] }),
    mcpToolDuration: new Histogram({ name: 'tollgate_mcp_tool_duration_seconds', help: 'Time from tools/call to its result, through the gateway', labelNames: ['service'], buckets, registers: [registry] }),
    chargedMicros: new Counter({ name: 'tollgate_charged_micros_total', help: 'Micro-units captured by service (HTTP proxy and MCP gateway)', labelNames: ['service'], registers: [registry] }),
    adminRequests: new Counter({ name: 'tollgate_admin_requests_total', help: 'Admin API requests by route and status', labelNames: ['route', 'status'], registers: [registry] }),
    authFailures: new Counter({ name: 'tollgate_auth_failures_total', help: 'Failed authentications by kind (api_key, locked_out)', labelNames: ['kind'], registers: [registry] }),
  };
}
