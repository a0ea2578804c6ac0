/**
 * bench/gateway.ts — requests/s and p50/p99 latency through the gateway, one run each, same upstream
 * and concurrency, for (a) direct to the upstream, (b) a bare Hono pass-through proxy (no checks),
 * (c) Tollgate's paid proxy on PGlite (in memory), (d) on PostgreSQL (a fresh schema).
 *
 *   npm run bench:gateway     (TOLLGATE_TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test)
 *
 * Everything runs on loopback in one process (load generator included), so the absolute figures are
 * lower than a dedicated load box would show; the ratios are the point. Every paid request is a new
 * call (its own Idempotency-Key): authorize (one atomic hold), forward, capture, audit record.
 *
 * Last line: {"bench":"gateway","direct_rps":N,"bare_rps":N,"paid_pglite_rps":N,"paid_pg_rps":N,"bare_p99_ms":N,"paid_pg_p99_ms":N}
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { openTollgate, type Db } from '../packages/core/src/index.ts';
import { migrate, openPgliteDb, openPostgresDb } from '../packages/core/src/db/index.ts';
import { createApp, createLogger, startServer } from '../packages/server/src/index.ts';
import { StatementProfile } from './statements.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const PG_URL = process.env.TOLLGATE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
/** Longest a single benchmark request may take before it counts as an error. */
const REQUEST_TIMEOUT_MS = 10_000;

interface Result {
  name: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** One GET over a kept-alive socket; resolves with the status once the body has been read. */
function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function startUpstream(): Promise<{ server: Server; url: string }> {
  const body = JSON.stringify({ results: [{ title: 'one', url: 'https://example.com/1' }, { title: 'two', url: 'https://example.com/2' }] });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs CONCURRENCY loops for `seconds`, each making one request after another. */
async function load(name: string, url: string, headers: () => Record<string, string>): Promise<Result> {
  const run = async (seconds: number, record: boolean) => {
    const latencies: number[] = [];
    let errors = 0;
    const deadline = performance.now() + seconds * 1000;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const started = performance.now();
        try {
          if ((await get(url, headers())) !== 200) errors++;
        } catch {
          errors++;
        }
        if (record) latencies.push(performance.now() - started);
      }
    }));
    return { latencies, errors };
  };
  await run(WARMUP_SECONDS, false);
  const started = performance.now();
  const { latencies, errors } = await run(SECONDS, true);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const result = { name, rps: Math.round(latencies.length / elapsed), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), errors };
  process.stdout.write(`${name.padEnd(12)} ${String(result.rps).padStart(6)} req/s   p50 ${result.p50Ms} ms   p99 ${result.p99Ms} ms   errors ${errors}\n`);
  return result;
}

const round = (n: number) => Math.round(n * 100) / 100;

async function bare(upstreamUrl: string) {
  const app = new Hono();
  app.all('/proxy/:service/*', async (c) => {
    const path = c.req.path.slice(`/proxy/${c.req.param('service')}`.length);
    const upstream = await fetch(`${upstreamUrl}${path}`, { method: c.req.method, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  });
  return startServer(app as never, { host: '127.0.0.1', port: 0 });
}

async function paid(db: Db, upstreamUrl: string, noopGuard = false) {
  const tg = await openTollgate({ db });
  let n = 0;
  // The proxy's own cost: a guard that answers at once (no database), to split gateway from guard time.
  const guard = { authorize: async () => ({ type: 'authorized' as const, callId: `call_${++n}`, grantId: 'g', holdMicros: 1n, free: false, remainingMicros: 1n }), settle: async (input: { callId: string }) => ({ callId: input.callId, outcome: 'captured' as const, chargedMicros: 1n, remainingMicros: 0n, replay: false }) };
  const built = createApp({ tg, ...(noopGuard ? { guard } : {}), config: { allowLoopbackUpstreams: true, sweepIntervalSeconds: 0, logLevel: 'silent', metrics: true }, logger: createLogger({ level: 'silent' }) });
  const slug = noopGuard ? 'bench-noop' : 'bench';
  await built.services.create({ slug, baseUrl: upstreamUrl, sellerId: 'sel_bench', prices: [{ type: 'fixed', price: '0.000001' }], credentials: { headers: { 'x-upstream-key': 'bench-secret' } } });
  const org = await tg.principals.createOrg({ name: 'Bench' });
  const user = await tg.principals.createUser({ orgId: org.id, name: 'Bench' });
  await tg.wallets.topUp({ ownerId: user.id, amount: '1000000.00', reference: `bench-${user.id}` });
  const { token } = await tg.grants.create({ userId: user.id, totalCap: '1000000.00', services: ['*'] });
  const server = await startServer(built.app, { host: '127.0.0.1', port: 0 });
  return {
    url: `${server.url}/proxy/${slug}/search?q=x`,
    headers: () => ({ authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() }),
    async close() {
      await server.close();
      await tg.close();
    },
  };
}

async function main(): Promise<void> {
  process.stdout.write(`gateway bench: concurrency ${CONCURRENCY}, ${SECONDS} s per run (+${WARMUP_SECONDS} s warm-up), loopback, one process\n`);
  const upstream = await startUpstream();
  const direct = await load('direct', `${upstream.url}/search?q=x`, () => ({}));
  const bareServer = await bare(upstream.url);
  const bareResult = await load('bare', `${bareServer.url}/proxy/bench/search?q=x`, () => ({}));
  await bareServer.close();

  const pglite = await openPgliteDb();
  await migrate(pglite);
  const paidPglite = await paid(pglite, upstream.url);
  const pgliteResult = await load('paid-pglite', paidPglite.url, paidPglite.headers);
  await paidPglite.close();
  const noop = await paid(pglite, upstream.url, true);
  const noopResult = await load('proxy-only', noop.url, noop.headers);
  await noop.close();
  await pglite.close();

  let pgResult: Result | undefined;
  const schema = `bench_gw_${process.pid}`;
  try {
    const opened = await openPostgresDb({ url: PG_URL, schema, poolSize: 8 });
    const profile = process.env.BENCH_STATEMENTS === '1' ? new StatementProfile() : undefined;
    const pg = profile ? profile.wrap(opened) : opened;
    try {
      await migrate(pg);
      const paidPg = await paid(pg, upstream.url);
      profile?.reset();
      pgResult = await load('paid-pg', paidPg.url, paidPg.headers);
      profile?.print(pgResult.rps * SECONDS);
      await paidPg.close();
    } finally {
      await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
      await pg.close();
    }
  } catch (error) {
    process.stdout.write(`paid-pg      skipped: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  upstream.server.close();
  agent.destroy();
  if (pgResult) {
    process.stdout.write(`paid on Postgres: ${Math.round((pgResult.rps / bareResult.rps) * 100)}% of bare throughput, p99 +${round(pgResult.p99Ms - bareResult.p99Ms)} ms over bare\n`);
    process.stdout.write(`proxy-only (no-op guard): ${Math.round((noopResult.rps / bareResult.rps) * 100)}% of bare: the rest of the paid cost is the guard (authorize + settle + audit)\n`);
  }
  process.stdout.write(`${JSON.stringify({
    bench: 'gateway',
    direct_rps: direct.rps,
    bare_rps: bareResult.rps,
    paid_pglite_rps: pgliteResult.rps,
    paid_pg_rps: pgResult?.rps ?? null,
    bare_p99_ms: bareResult.p99Ms,
    paid_pg_p99_ms: pgResult?.p99Ms ?? null,
  })}\n`);
  process.exit(0);
}

await main();
