/**
 * @module bench/mcp
 * Tool calls per second and p99 latency: an MCP SDK client calling the demo MCP server's `echo`
 * directly over Streamable HTTP, versus the same calls through the Tollgate gateway at `/mcp`
 * (authorize → forward → settle → audit → usage event per call). The upstream is its own process.
 *
 *   npm run bench:mcp     (TOLLGATE_BENCH_DATABASE_URL for Postgres; default: in-memory PGlite)
 *   MCP_BENCH_CALLS=2000 MCP_BENCH_CONCURRENCY=16
 * Last line: {"bench":"mcp","direct_cps":N,"gateway_cps":N,"gateway_p99_ms":N}
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { migrate, openPgliteDb, openPostgresDb, openTollgate, type Db } from '@tollgate/core';
import { createApp, createLogger, startServer } from '../packages/server/src/index.ts';
import { mcpGatewayOf } from '../packages/server/src/mcp/index.ts';

const CALLS = Number(process.env.MCP_BENCH_CALLS ?? 2000);
const CONCURRENCY = Number(process.env.MCP_BENCH_CONCURRENCY ?? 16);
const WARMUP_CALLS = 100;

async function startUpstream(): Promise<{ url: string; stop(): void }> {
  const path = fileURLToPath(new URL('../packages/server/src/demo/mcp-upstream.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, '--http', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /listening (\S+)/.exec(chunk.toString());
      if (match) resolve(match[1]!);
    });
    child.once('exit', () => reject(new Error('the upstream exited')));
  });
  return { url, stop: () => child.kill() };
}

async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** Runs `calls` tool calls with `CONCURRENCY` in flight; returns calls/s and per-call latencies. */
async function run(client: Client, tool: string, calls: number): Promise<{ cps: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < calls) {
      next++;
      const t0 = performance.now();
      const result = await client.callTool({ name: tool, arguments: { text: 'ping' }, _meta: { 'io.tollgate/idempotencyKey': randomUUID() } });
      if (result.isError) throw new Error(`tool error: ${JSON.stringify(result.content)}`);
      latenciesMs.push(performance.now() - t0);
    }
  }));
  return { cps: calls / ((performance.now() - started) / 1000), latenciesMs };
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}

async function openBenchDb(): Promise<Db> {
  const url = process.env.TOLLGATE_BENCH_DATABASE_URL;
  const db = url ? await openPostgresDb({ url, schema: `bench_mcp_${process.pid}` }) : await openPgliteDb();
  await migrate(db);
  return db;
}

/**
 * `--serve <upstream url>`: the gateway side, run as its own process (as in production, and so the
 * bench client does not share a CPU with it, just as it does not share one with the upstream).
 * Prints `ready <gateway url> <token>`.
 */
async function serveGateway(upstreamUrl: string): Promise<void> {
  const db = await openBenchDb();
  const tg = await openTollgate({ db });
  const built = createApp({ tg, config: { allowLoopbackUpstreams: true, sweepIntervalSeconds: 0, metrics: false } as never, logger: createLogger({ level: 'error' }) });
  const server = await startServer(built.app);
  await built.services.create({ slug: 'bench', kind: 'mcp', mcp: { url: upstreamUrl }, sellerId: 'sel_bench', prices: [{ type: 'fixed', price: '0.001' }] });
  const org = await tg.principals.createOrg({ name: 'Bench' });
  const user = await tg.principals.createUser({ orgId: org.id, name: 'Bench' });
  await tg.wallets.topUp({ ownerId: user.id, amount: '100000.00', reference: `bench-${randomUUID()}` });
  const { token } = await tg.grants.create({ userId: user.id, totalCap: '100000.00', services: ['*'] });
  process.stdout.write(`ready ${server.url} ${token}\n`);
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await mcpGatewayOf(tg)?.close();
    (server.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await server.close();
    await tg.close();
    if (process.env.TOLLGATE_BENCH_DATABASE_URL) await db.query(`DROP SCHEMA IF EXISTS bench_mcp_${process.pid} CASCADE`).catch(() => {});
    await db.close();
    process.exit(0);
  });
}

async function startGatewayProcess(upstreamUrl: string): Promise<{ url: string; token: string; stop(): void }> {
  const child = spawn(process.execPath, [...(process.env.MCP_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.MCP_BENCH_PROFILE] : []), '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', upstreamUrl], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [url, token] = await new Promise<[string, string]>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /ready (\S+) (\S+)/.exec(chunk.toString());
      if (match) resolve([match[1]!, match[2]!]);
    });
    child.once('exit', () => reject(new Error('the gateway exited')));
  });
  return { url, token, stop: () => child.stdin.end() };
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  await serveGateway(process.argv[serveAt + 1]!);
} else {
  await main();
}

/** The measurement: direct calls first, then the same calls through the gateway process. */
async function main(): Promise<void> {
  const upstream = await startUpstream();
  const tollgate = await startGatewayProcess(upstream.url);
  const direct = await connect(upstream.url);
  const gateway = await connect(`${tollgate.url}/mcp`, { authorization: `Bearer ${tollgate.token}` });
  await run(direct, 'echo', WARMUP_CALLS);
  await run(gateway, 'bench__echo', WARMUP_CALLS);
  const d = await run(direct, 'echo', CALLS);
  const g = await run(gateway, 'bench__echo', CALLS);
  const engine = process.env.TOLLGATE_BENCH_DATABASE_URL ? 'postgres' : 'pglite (in-memory)';
  console.log(`database: ${engine}; ${CALLS} calls, ${CONCURRENCY} in flight; gateway and upstream each in their own process`);
  console.log(`direct : ${d.cps.toFixed(0)} calls/s, p99 ${p99(d.latenciesMs).toFixed(1)} ms`);
  console.log(`gateway: ${g.cps.toFixed(0)} calls/s, p99 ${p99(g.latenciesMs).toFixed(1)} ms (${((g.cps / d.cps) * 100).toFixed(0)}% of direct)`);
  await direct.close();
  await gateway.close();
  tollgate.stop();
  upstream.stop();
  console.log(JSON.stringify({ bench: 'mcp', direct_cps: Math.round(d.cps), gateway_cps: Math.round(g.cps), gateway_p99_ms: Number(p99(g.latenciesMs).toFixed(1)) }));
}
