/**
 * @module cli/commands/serve
 * `tollgate serve`: opens the database (running migrations), seeds the demo on first start (unless
 * `--no-demo` / `TOLLGATE_DEMO=false`), and serves the proxy and admin API until SIGINT/SIGTERM.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { defineCommand } from 'citty';
import { isPostgresUrl, openDb, openTollgate, formatMicros, TollgateError, type ServiceRegistry } from '@tollgate/core';
import { createApp } from '../../app.ts';
import { mppConfigFromEnv, mppEdgeFromConfig, mppPayerFromEnv } from '../../rails/mpp.ts';
import { startBackground } from '../../background.ts';
import { demoEnabled, loadConfig } from '../../config/index.ts';
import { demoUpstreamApp } from '../../demo/upstreams.ts';
import { seedDemo, type DemoInfo } from '../../demo/seed.ts';
import { createLogger } from '../../logger.ts';
import { mcpGatewayOf } from '../../mcp/index.ts';
import { startServer } from '../../server.ts';
import { randomBytes } from 'node:crypto';
import { fail } from '../output.ts';
import { ensureDashboardBuilt, seedCalls } from '../../dashboard/index.ts';
import { DEMO_SERVICES } from '../../demo/seed.ts';

export const serve = defineCommand({
  meta: { name: 'serve', description: 'Start the Tollgate server (seeds a demo on first start)' },
  args: {
    database: { type: 'string', description: 'postgres:// URL or PGlite data folder (TOLLGATE_DATABASE_URL)' },
    port: { type: 'string', description: 'Port (TOLLGATE_PORT, default 8787)' },
    host: { type: 'string', description: 'Interface (TOLLGATE_HOST, default 127.0.0.1)' },
    config: { type: 'string', description: 'JSON config file (TOLLGATE_CONFIG)' },
    demo: { type: 'boolean', description: 'Seed and serve the demo (use --no-demo to turn off)' },
    'seed-calls': { type: 'string', description: 'Demo only: add this many synthetic call records once, to try the dashboard at scale (TOLLGATE_SEED_CALLS)' },
  },
  async run({ args }) {
    try {
      await runServe(args);
    } catch (error) {
      fail(error);
    }
  },
});

async function runServe(args: { database?: string; port?: string; host?: string; config?: string; demo?: boolean; 'seed-calls'?: string }): Promise<void> {
  const config = loadConfig({
    ...(args.config ? { file: args.config } : {}),
    overrides: { databaseUrl: args.database, port: args.port as never, host: args.host, demo: args.demo },
  });
  const logger = createLogger({ level: config.logLevel });
  const seedCallCount = parseSeedCalls(args['seed-calls'] ?? process.env.TOLLGATE_SEED_CALLS);
  const build = await ensureDashboardBuilt({ log: (line) => process.stdout.write(`${line}\n`) });
  if (build.type === 'unavailable' || build.type === 'failed') logger.warn({ reason: build.reason }, `the dashboard could not be built (${build.type}); the API is up`);
  if (!isPostgresUrl(config.databaseUrl) && config.databaseUrl !== 'memory://') mkdirSync(resolve(config.databaseUrl.replace(/^file:\/\//, '')), { recursive: true });
  const db = await openDb(config.databaseUrl);
  const tg = await openTollgate({ db, ...(config.publicUrl ? { approvalUrl: (id: string) => `${config.publicUrl}/v1/approvals/${id}` } : {}) });
  let demoUpstream: Awaited<ReturnType<typeof startServer>> | undefined;
  let demoCredential = randomBytes(16).toString('hex');
  // The demo's upstreams live on loopback, so the demo allows loopback upstreams (only loopback).
  const demoOn = demoEnabled(config);
  const effective = demoOn ? { ...config, allowLoopbackUpstreams: true } : config;
  const mppConfig = mppConfigFromEnv();
  const mppPayer = mppPayerFromEnv();
  const built = createApp({ tg, config: effective, logger, ...(mppConfig ? { mpp: mppEdgeFromConfig(mppConfig, tg, logger) } : {}), ...(mppPayer ? { upstreamPayers: [mppPayer] } : {}) });
  if (config.adminApiKey) await built.apiKeys.ensure(config.adminApiKey, { name: 'configured admin key', role: 'admin' });
  let demo: DemoInfo | undefined;
  if (demoOn) {
    const [row] = await db.query<{ value: { upstreamCredential: string } }>("SELECT value FROM settings WHERE key = 'demo'");
    if (row) demoCredential = row.value.upstreamCredential;
    demoUpstream = await startServer(demoUpstreamApp({ credential: demoCredential }) as never, { host: '127.0.0.1', port: config.demoUpstreamPort });
    const dir = isPostgresUrl(config.databaseUrl) || config.databaseUrl === 'memory://' ? resolve('.tollgate') : dirname(resolve(config.databaseUrl));
    demo = await seedDemo({ tg, services: built.services, apiKeys: built.apiKeys, upstreamUrl: demoUpstream.url, dir });
    if (demo.upstreamCredential !== demoCredential) {
      // First start: the seed chose the credential; restart the upstream with it.
      await demoUpstream.close();
      demoUpstream = await startServer(demoUpstreamApp({ credential: demo.upstreamCredential }) as never, { host: '127.0.0.1', port: demoUpstream.port });
    }
    built.dashboard.demo.enable(demo.adminKey);
    if (seedCallCount > 0) await seedDemoCalls(tg, built.services, demo, seedCallCount);
  }
  const server = await startServer(built.app, { host: config.host, port: config.port });
  const stopBackground = startBackground(tg, { intervalSeconds: config.sweepIntervalSeconds, logger });
  const stopMetering = built.metering.start();
  const where = isPostgresUrl(config.databaseUrl) ? 'PostgreSQL' : `PGlite at ${config.databaseUrl}`;
  const url = config.publicUrl ?? server.url;
  process.stdout.write(`\nTollgate is running at ${url}  (database: ${where})\n`);
  process.stdout.write(`Dashboard: ${url}/   API docs: ${url}/docs   OpenAPI: ${url}/openapi.json   metrics: ${url}/metrics\n`);
  if (demo) process.stdout.write(await banner(url, demo, tg));

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nStopping: finishing running calls…\n');
    // Open MCP sessions hold SSE streams that would keep the server from closing.
    await mcpGatewayOf(tg)?.close();
    await built.dashboard.close();
    await server.close();
    await stopBackground();
    await stopMetering();
    await built.metering.close();
    await demoUpstream?.close();
    await tg.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function banner(url: string, demo: DemoInfo, tg: Awaited<ReturnType<typeof openTollgate>>): Promise<string> {
  const balance = await tg.wallets.balance(demo.userId);
  const auth = `-H "Authorization: Bearer ${demo.token}"`;
  return `
${demo.created ? 'Seeded the demo' : 'Reusing the demo'}: org ${demo.orgId}, user ${demo.userId} (wallet ${formatMicros(balance.availableMicros)} ${balance.currency}), agent ${demo.agentId}, seller ${demo.sellerId}.

Demo grant token (cap 10.00, anything above 1.00 needs approval), kept in ${demo.tokenFile} (mode 0600):
  ${demo.token}
Admin API key, kept in ${demo.adminKeyFile} (mode 0600):
  ${demo.adminKey}

Make a paid call (0.01):
  curl -i ${auth} -H "Idempotency-Key: demo-1" "${url}/proxy/search/search?q=tollgate"

Then try:
  same key again (replayed, not charged twice):  repeat the command above
  usage-priced (holds 0.20, charges per word):   curl -i ${auth} -H "content-type: application/json" -d '{"text":"three little words"}' ${url}/proxy/summarize/summarize
  a slow stream (server-sent events):            curl -N ${auth} ${url}/proxy/ticker/stream
  an expensive call that needs approval (2.50):  curl -i -X POST ${auth} -H "Idempotency-Key: big-1" ${url}/proxy/research/research
      approve it:  TOLLGATE_URL=${url} TOLLGATE_API_KEY=${demo.adminKey} npx tollgate approvals list
                   … npx tollgate approvals approve <approval id>, then repeat the call with -H "X-Tollgate-Approval: <approval id>"
  what was paid and why:                         TOLLGATE_URL=${url} TOLLGATE_API_KEY=${demo.adminKey} npx tollgate calls list
  stop every grant of the user at once:          npx tollgate panic ${demo.userId}

`;
}

/** Most synthetic records `--seed-calls` adds. */
const SEED_CALLS_MAX = 10_000_000;

function parseSeedCalls(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (!/^\d{1,8}$/.test(value) || Number(value) > SEED_CALLS_MAX) {
    throw new TollgateError('invalid_request', `--seed-calls: a whole number of calls up to ${SEED_CALLS_MAX}`, { field: 'seed-calls' });
  }
  return Number(value);
}

async function seedDemoCalls(tg: Awaited<ReturnType<typeof openTollgate>>, services: ServiceRegistry, demo: DemoInfo, count: number): Promise<void> {
  const started = Date.now();
  const grant = (await tg.grants.list({ userId: demo.userId, limit: 1 }))[0];
  const added = await seedCalls({
    db: tg.db, services, count, orgId: demo.orgId, userId: demo.userId, grantId: grant?.id ?? null,
    agentIds: [demo.agentId], serviceSlugs: DEMO_SERVICES,
    onProgress: (done) => process.stdout.write(`\rSeeding synthetic calls: ${done}/${count}`),
  });
  if (added > 0) process.stdout.write(`\nSeeded ${added} synthetic call records in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
