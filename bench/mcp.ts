/**
 * @module bench/mcp
 * Tool calls per second and p99 latency: an MCP SDK client calling the demo MCP server's `echo`
 * directly over Streamable HTTP, versus the same calls through the Tollgate gateway at `/mcp`
 * (authorize → forward → settle → audit → usage event per call). The upstream is its own process.
 *
 *   npm run bench:mcp     (PostgreSQL at TOLLGATE_BENCH_DATABASE_URL, else TOLLGATE_TEST_DATABASE_URL;
 *                          in-memory PGlite when neither is set)
 *   MCP_BENCH_CALLS=2000 MCP_BENCH_CONCURRENCY=16 MCP_BENCH_ROUNDS=4 (calls a side, split into rounds
 *                           that alternate which side goes first)
 *   MCP_BENCH_NOOP_GUARD=1  also runs the gateway with a guard that holds and settles nothing, to show
 *                           how much of the gateway's cost is the guard's
 * Besides calls/s it prints CPU per call of each process (read from /proc, so Linux only): on a
 * shared 2-core machine throughput swings with other work, CPU per call much less.
 * Last line: {"bench":"mcp","direct_cps":N,"gateway_cps":N,"gateway_p99_ms":N}
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { migrate, openPgliteDb, openPostgresDb, openTollgate, type Db, type Guard } from '@tollgate/core';
import { createApp, createLogger, startServer } from '../packages/server/src/index.ts';
import { mcpGatewayOf } from '../packages/server/src/mcp/index.ts';
import { cpuMeter, taggedUrl } from './cpu.ts';

const CALLS = Number(process.env.MCP_BENCH_CALLS ?? 2000);
const CONCURRENCY = Number(process.env.MCP_BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.MCP_BENCH_ROUNDS ?? 4);
const WARMUP_CALLS = Number(process.env.MCP_BENCH_WARMUP ?? 1000);
const DATABASE_URL = process.env.TOLLGATE_BENCH_DATABASE_URL || process.env.TOLLGATE_TEST_DATABASE_URL || undefined;

/** CPU time (user + system) a process has used so far, in ms; NaN where /proc is not readable. */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function startUpstream(): Promise<{ url: string; pid: number; stop(): void }> {
  const path = fileURLToPath(new URL('../packages/server/src/demo/mcp-upstream.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, '--http', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      const match = /listening (\S+)/.exec(chunk.toString());
      if (match) resolve(match[1]!);
    });
    child.once('exit', () => reject(new Error('the upstream exited')));
  });
  return { url, pid: child.pid!, stop: () => child.kill() };
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
  const url = DATABASE_URL;
  const db = url ? await openPostgresDb({ url: taggedUrl(url, `bench_mcp_${process.pid}`), schema: `bench_mcp_${process.pid}` }) : await openPgliteDb();
  await migrate(db);
  return db;
}

/**
 * `--serve <upstream url>`: the gateway side, run as its own process (as in production, and so the
 * bench client does not share a CPU with it, just as it does not share one with the upstream).
 * Prints `ready <gateway url> <token>`.
 */
async function serveGateway(upstreamUrl: string, noopGuard: boolean): Promise<void> {
  const db = await openBenchDb();
  const tg = await openTollgate({ db });
  if (noopGuard) stubGuard(tg.guard);
  const built = createApp({ tg, config: { allowLoopbackUpstreams: true, sweepIntervalSeconds: 0, metrics: false } as never, logger: createLogger({ level: 'error' }) });
  const server = await startServer(built.app);
  await built.services.create({ slug: 'bench', kind: 'mcp', mcp: { url: upstreamUrl }, sellerId: 'sel_bench', prices: [{ type: 'fixed', price: '0.001' }] });
  const org = await tg.principals.createOrg({ name: 'Bench' });
  const user = await tg.principals.createUser({ orgId: org.id, name: 'Bench' });
  await tg.wallets.topUp({ ownerId: user.id, amount: '100000.00', reference: `bench-${randomUUID()}` });
  const { token } = await tg.grants.create({ userId: user.id, totalCap: '100000.00', services: ['*'] });
  // A fresh meter per reading: the pool closes idle connections, and a backend that is gone can no longer be read.
  const meter = () => (DATABASE_URL ? cpuMeter(db, `bench_mcp_${process.pid}`) : undefined);
  let postgres = await meter();
  const node0 = process.cpuUsage();
  process.stdout.write(`ready ${server.url} ${token}\n`);
  // `cpu` on stdin: this process's CPU so far and its Postgres backends' CPU since the last `cpu`, in ms.
  process.stdin.on('data', async (chunk: Buffer) => {
    if (!chunk.toString().includes('cpu')) return;
    const used = process.cpuUsage(node0);
    const postgresMs = postgres ? (await postgres()).postgresMs : 0;
    postgres = await meter();
    process.stdout.write(`cpu ${(used.user + used.system) / 1000} ${postgresMs}\n`);
  });
  process.stdin.on('end', async () => {
    await mcpGatewayOf(tg)?.close();
    (server.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    await server.close();
    await tg.close();
    if (DATABASE_URL) await db.query(`DROP SCHEMA IF EXISTS bench_mcp_${process.pid} CASCADE`).catch(() => {});
    await db.close();
    process.exit(0);
  });
}

/**
 * Every call is let through without touching the database: what the gateway costs without the guard
 * (it still prices, forwards, records usage and answers).
 */
function stubGuard(guard: Guard): void {
  let calls = 0;
  guard.authorize = async (request) => ({ type: 'authorized', callId: `call_noop_${calls++}`, grantId: 'grant_noop', holdMicros: request.priceMicros, free: false, remainingMicros: 0n });
  guard.settle = async (input) => ({ callId: input.callId, outcome: 'captured', chargedMicros: 0n, remainingMicros: 0n, replay: false });
}

interface GatewayProcess {
  url: string;
  token: string;
  /** CPU used so far by the gateway process, and by its Postgres backends since the last reading, in ms. */
  cpu(): Promise<{ nodeMs: number; postgresMs: number }>;
  stop(): void;
}

async function startGatewayProcess(upstreamUrl: string, noopGuard = false): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...(process.env.MCP_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.MCP_BENCH_PROFILE] : []), '--import', 'tsx', fileURLToPath(import.meta.url), '--serve', upstreamUrl, ...(noopGuard ? ['--noop-guard'] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Array<(line: string) => boolean> = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let end;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const at = lines.findIndex((wants) => wants(line));
      if (at >= 0) lines.splice(at, 1);
    }
  });
  const nextLine = (pattern: RegExp) => new Promise<RegExpExecArray>((resolve, reject) => {
    lines.push((line) => {
      const match = pattern.exec(line);
      if (match) resolve(match);
      return match !== null;
    });
    child.once('exit', () => reject(new Error('the gateway exited')));
  });
  const ready = await nextLine(/^ready (\S+) (\S+)/);
  return {
    url: ready[1]!,
    token: ready[2]!,
    async cpu() {
      const reply = nextLine(/^cpu (\S+) (\S+)/);
      child.stdin.write('cpu\n');
      const match = await reply;
      return { nodeMs: Number(match[1]), postgresMs: Number(match[2]) };
    },
    stop: () => child.stdin.end(),
  };
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  await serveGateway(process.argv[serveAt + 1]!, process.argv.includes('--noop-guard'));
} else {
  await main();
}

interface Measured {
  calls: number;
  seconds: number;
  cps: number;
  latenciesMs: number[];
  /** CPU ms per call: the bench's client, the upstream, the gateway process, its Postgres backends. */
  cpu: { client: number; upstream: number; gateway: number; postgres: number };
}

/** One measured run, with the CPU each process spent on it. */
async function measured(client: Client, tool: string, calls: number, upstreamPid: number, gateway?: GatewayProcess): Promise<Measured> {
  const client0 = process.cpuUsage();
  const upstream0 = processCpuMs(upstreamPid);
  const gateway0 = await gateway?.cpu();
  const started = performance.now();
  const result = await run(client, tool, calls);
  const seconds = (performance.now() - started) / 1000;
  const clientUsed = process.cpuUsage(client0);
  const upstreamMs = processCpuMs(upstreamPid) - upstream0;
  const gateway1 = await gateway?.cpu();
  return {
    ...result,
    calls,
    seconds,
    cpu: {
      client: (clientUsed.user + clientUsed.system) / 1000 / calls,
      upstream: upstreamMs / calls,
      gateway: gateway0 && gateway1 ? (gateway1.nodeMs - gateway0.nodeMs) / calls : 0,
      postgres: gateway1 ? gateway1.postgresMs / calls : 0,
    },
  };
}

/** A side's rounds as one measurement: its calls over its own time, CPU weighted by calls. */
function merged(rounds: readonly Measured[]): Measured {
  const calls = rounds.reduce((n, r) => n + r.calls, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const mean = (key: keyof Measured['cpu']) => rounds.reduce((n, r) => n + r.cpu[key] * r.calls, 0) / calls;
  return {
    calls, seconds, cps: calls / seconds,
    latenciesMs: rounds.flatMap((r) => r.latenciesMs),
    cpu: { client: mean('client'), upstream: mean('upstream'), gateway: mean('gateway'), postgres: mean('postgres') },
  };
}

function cpuLine(m: Measured): string {
  const { client, upstream, gateway, postgres } = m.cpu;
  const total = client + upstream + gateway + postgres;
  return `CPU ms/call: client ${client.toFixed(2)}, upstream ${upstream.toFixed(2)}${gateway ? `, gateway ${gateway.toFixed(2)}` : ''}${postgres ? `, postgres ${postgres.toFixed(2)}` : ''}; total ${total.toFixed(2)}`;
}

/** The measurement: direct calls first, then the same calls through the gateway process. */
async function main(): Promise<void> {
  const upstream = await startUpstream();
  const tollgate = await startGatewayProcess(upstream.url);
  const direct = await connect(upstream.url);
  const gateway = await connect(`${tollgate.url}/mcp`, { authorization: `Bearer ${tollgate.token}` });
  await run(direct, 'echo', WARMUP_CALLS);
  await run(gateway, 'bench__echo', WARMUP_CALLS);
  // Rounds alternate which side goes first, so a drift in the machine's speed (other jobs on a
  // shared host) falls on both sides alike instead of on whichever ran second.
  const perRound = Math.ceil(CALLS / ROUNDS);
  const directRounds: Measured[] = [];
  const gatewayRounds: Measured[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const sides = [
      async () => directRounds.push(await measured(direct, 'echo', perRound, upstream.pid)),
      async () => gatewayRounds.push(await measured(gateway, 'bench__echo', perRound, upstream.pid, tollgate)),
    ];
    for (const side of round % 2 === 0 ? sides : sides.reverse()) await side();
  }
  const d = merged(directRounds);
  const g = merged(gatewayRounds);
  await gateway.close();
  tollgate.stop();
  let noop: Measured | undefined;
  if (process.env.MCP_BENCH_NOOP_GUARD === '1') {
    const unguarded = await startGatewayProcess(upstream.url, true);
    const client = await connect(`${unguarded.url}/mcp`, { authorization: `Bearer ${unguarded.token}` });
    await run(client, 'bench__echo', WARMUP_CALLS);
    noop = await measured(client, 'bench__echo', CALLS, upstream.pid, unguarded);
    await client.close();
    unguarded.stop();
  }
  const engine = DATABASE_URL ? 'postgres' : 'pglite (in-memory, inside the gateway process)';
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`database: ${engine}; ${CALLS} calls a side in ${ROUNDS} alternating rounds, ${CONCURRENCY} in flight; gateway and upstream each in their own process; load average ${load}`);
  const perRoundCps = (rounds: readonly Measured[]) => rounds.map((r) => r.cps.toFixed(0)).join(', ');
  console.log(`rounds, calls/s: direct ${perRoundCps(directRounds)}; gateway ${perRoundCps(gatewayRounds)}`);
  console.log(`direct : ${d.cps.toFixed(0)} calls/s, p99 ${p99(d.latenciesMs).toFixed(1)} ms; ${cpuLine(d)}`);
  console.log(`gateway: ${g.cps.toFixed(0)} calls/s, p99 ${p99(g.latenciesMs).toFixed(1)} ms (${((g.cps / d.cps) * 100).toFixed(0)}% of direct); ${cpuLine(g)}`);
  if (noop) console.log(`gateway, no-op guard: ${noop.cps.toFixed(0)} calls/s, p99 ${p99(noop.latenciesMs).toFixed(1)} ms (${((noop.cps / d.cps) * 100).toFixed(0)}% of direct); ${cpuLine(noop)}`);
  await direct.close();
  upstream.stop();
  console.log(JSON.stringify({ bench: 'mcp', direct_cps: Math.round(d.cps), gateway_cps: Math.round(g.cps), gateway_p99_ms: Number(p99(g.latenciesMs).toFixed(1)) }));
}
