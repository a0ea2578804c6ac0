/**
 * @module app
 * `createApp({ tg, config, logger })`: the Hono app with the paid proxy, the admin API, the OpenAPI
 * document and docs page, `/metrics`, `/healthz` and the web dashboard at `/`. No socket here: `startServer()` listens, tests
 * call `app.request()`.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { ServiceRegistry, type Guard, type Tollgate } from '@tollgate/core';
import { adminRoutes, docsPage, openApiDocument, registerRoutes } from './admin/index.ts';
import { ConfigSchema, type Config, type ConfigInput } from './config/index.ts';
import type { AppEnv } from './env.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics/index.ts';
import { ApiKeys, apiKeyAuth, Lockout } from './middleware/api-key/index.ts';
import { notFoundHandler, problemHandler } from './middleware/problem/index.ts';
import { proxy } from './proxy/index.ts';
import { createMcpGateway, mcpResourceMetadata, MCP_RESOURCE_METADATA_PATH } from './mcp/index.ts';
import { createMetering, type Metering } from './metering.ts';
import { proxyUsage } from './usage/index.ts';
import { providerRoutes } from './provider-api/index.ts';
import { createUpstreamPayments, createX402Edge } from './rails/x402.ts';
import { createDeposits, depositRoutes } from './rails/deposit-routes.ts';
import type { MppEdge } from './rails/mpp.ts';
import type { UpstreamPayer } from '@tollgate/rails';
import { mppProxy } from './rails/mpp-proxy.ts';
import { createDashboard, dashboardAssets, DASHBOARD_PUBLIC_PATHS, type Dashboard } from './dashboard/index.ts';

export interface CreateAppOptions {
  tg: Tollgate;
  config?: Config | ConfigInput;
  logger?: Logger;
  /** Defaults to a registry over `tg.db` with the configured upstream policy. */
  services?: ServiceRegistry;
  /** Defaults to `tg.guard`; tests of the proxy mechanics may pass another. */
  guard?: Guard;
  metrics?: Metrics;
  /** The fetch used to reach upstreams. */
  fetch?: typeof fetch;
  /** MPP payments (`rails/mpp.ts`): services that take them can be paid per call without a grant. */
  mpp?: MppEdge;
  /** More buyer-side payers (e.g. MPP's), tried after the configured x402 one when an upstream answers 402. */
  upstreamPayers?: readonly UpstreamPayer[];
}

export interface TollgateApp {
  app: Hono<AppEnv>;
  config: Config;
  logger: Logger;
  services: ServiceRegistry;
  apiKeys: ApiKeys;
  metrics: Metrics;
  lockout: Lockout;
  /** Usage sinks, usage export (Stripe, Redis stream) and quotas; `tollgate serve` starts its background work. */
  metering: Metering;
  /** The web dashboard's server side (demo sign-in, live feed); `tollgate serve` enables the demo. */
  dashboard: Dashboard;
}

/** Paths under /v1 that authenticate themselves when called with a grant token. */
const GRANT_TOKEN_PATHS = [/^\/v1\/approvals\/[^/]+\/wait$/, /^\/v1\/grant$/];
const GRANT_TOKEN = /^Bearer\s+tg_(live|test)_/i;

export function createApp(options: CreateAppOptions): TollgateApp {
  const config = ConfigSchema.parse(options.config ?? {});
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const metrics = options.metrics ?? createMetrics();
  const { tg } = options;
  const services = options.services ?? new ServiceRegistry({ db: tg.db, upstreams: { allowLoopback: config.allowLoopbackUpstreams, allowPrivate: config.allowPrivateUpstreams, allowHosts: config.upstreamAllowHosts } });
  const apiKeys = new ApiKeys(tg.db);
  const lockout = new Lockout({ failuresMax: config.lockoutFailuresMax, windowMs: config.lockoutWindowMs, durationMs: config.lockoutDurationMs });
  const app = new Hono<AppEnv>();

  app.onError(problemHandler({ logger, headers: (c): Record<string, string> => {
    const id = c.get('callId');
    return id ? { 'x-tollgate-call-id': id, 'x-tollgate-charge': '0.00' } : {};
  } }));
  app.notFound(notFoundHandler());

  app.get('/healthz', async (c) => {
    await tg.db.query('SELECT 1');
    return c.json({ status: 'ok', database: tg.db.kind });
  });
  if (config.metrics) {
    app.get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));
  }

  const upstreamPayments = createUpstreamPayments(config, options.upstreamPayers);
  const x402 = createX402Edge({ tg, config, logger, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const handler = proxy({
    guard: options.guard ?? tg.guard,
    services,
    logger,
    metrics,
    limits: config,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(x402 ? { x402: x402.proxy } : {}),
    ...(upstreamPayments ? { upstreamPayments } : {}),
  });
  const metering = createMetering({ tg, config, logger, metrics });
  // An MPP payment (or a grantless call to a service that takes MPP) is answered before any grant is looked at.
  if (options.mpp) app.use('/proxy/*', mppProxy({ edge: options.mpp, services, limits: config, ...(options.fetch ? { fetch: options.fetch } : {}) }));
  // Metered first, so a quota refusal is metered too; the quota runs before the proxy authorizes.
  app.use('/proxy/*', proxyUsage({ tg, sink: metering.usage }), metering.proxyQuota);
  app.all('/proxy/:service', handler);
  app.all('/proxy/:service/*', handler);
  app.get(MCP_RESOURCE_METADATA_PATH, (c) => c.json(mcpResourceMetadata(config.publicUrl?.replace(/\/$/, '') ?? new URL(c.req.url).origin)));
  app.route('/mcp', createMcpGateway({ tg, services, logger, metrics, usage: metering.usage, quotas: metering.quotas, ...(options.mpp ? { mpp: options.mpp } : {}), ...(x402 ? { x402 } : {}), proxyFetch: async (request) => app.fetch(request) }).routes);

  if (config.corsOrigins.length > 0) {
    app.use('/v1/*', cors({ origin: config.corsOrigins, allowHeaders: ['authorization', 'content-type', 'x-api-key'], maxAge: 600 }));
  }
  const authenticate = apiKeyAuth({ keys: apiKeys, lockout, trustProxy: config.trustProxy, metrics });
  app.use('/v1/*', async function adminAuthentication(c, next) {
    if (GRANT_TOKEN_PATHS.some((p) => p.test(c.req.path)) && GRANT_TOKEN.test(c.req.header('authorization') ?? '')) return next();
    if (DASHBOARD_PUBLIC_PATHS.includes(c.req.path)) return next();
    return authenticate(c, next);
  });
  app.use('/v1/*', async function countAdmin(c, next) {
    await next();
    metrics.adminRequests.inc({ route: c.req.routePath, status: String(c.res.status) });
  });
  const dashboard = createDashboard({ tg, services, apiKeys, onError: (error) => logger.error({ err: error instanceof Error ? error.message : String(error) }, 'dashboard live feed failed') });
  const routes = [...adminRoutes({ tg, services, apiKeys }), ...providerRoutes({ tg, services, usage: metering.usage, quotas: metering.quotas }), ...metering.routes, ...dashboard.routes];
  const deposits = createDeposits(tg, config);
  if (deposits) routes.push(...depositRoutes(deposits, config.depositAsset!));
  registerRoutes(app, routes);

  const document = openApiDocument(routes, config.publicUrl ? { serverUrl: config.publicUrl } : {});
  const page = docsPage(document);
  app.get('/openapi.json', (c) => c.json(document));
  app.get('/docs', (c) => c.html(page));
  dashboardAssets(app);

  return { app, config, logger, services, apiKeys, metrics, lockout, metering, dashboard };
}
