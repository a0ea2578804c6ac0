/**
 * bench/guard.ts — authorize + settle cycles per second through the whole budget-guard path (token
 * lookup, policy, every nested limit, audit record) on PostgreSQL, 256 concurrent callers spread over
 * 256 grants of 32 users that all share one hot org monthly limit. Then a race: the org limit allows
 * exactly K calls and every caller keeps trying; overspend must be 0.
 *
 *   npm run bench:guard            (TOLLGATE_BENCH_DATABASE_URL or TOLLGATE_TEST_DATABASE_URL or the local server;
 *                                   BENCH_CALLERS, BENCH_SECONDS, BENCH_POOL = pool size, default 8 like the server)
 *
 * Prints figures, then one JSON line: {"bench":"guard","cps":N,"p50_ms":N,"p99_ms":N,"overspend":0}
 */
import { randomUUID } from 'node:crypto';
import { openPostgresDb, migrate, formatMicros } from '@tollgate/core';
import { openTollgate, type Tollgate } from '../packages/core/src/tollgate.ts';
import { callRequest, testService } from '../packages/core/src/testing/fixtures.ts';
import { TollgateError } from '../packages/core/src/errors.ts';
import { cpuMeter, taggedUrl } from './cpu.ts';
import { StatementProfile } from './statements.ts';

const url = process.env.TOLLGATE_BENCH_DATABASE_URL ?? process.env.TOLLGATE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CALLERS = Number(process.env.BENCH_CALLERS ?? 256);
const USERS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PRICE_MICROS = 1_000n;

async function setup(tg: Tollgate, orgMonthly: string): Promise<string[]> {
  const org = await tg.principals.createOrg({ name: 'bench', monthlyLimit: orgMonthly });
  const tokens: string[] = [];
  for (let u = 0; u < USERS; u++) {
    const user = await tg.principals.createUser({ orgId: org.id, name: `user ${u}` });
    await tg.wallets.topUp({ ownerId: user.id, amount: '1000000', reference: randomUUID() });
    for (let g = 0; g < CALLERS / USERS; g++) {
      tokens.push((await tg.grants.create({ userId: user.id, totalCap: '100000', services: ['*'] })).token);
    }
  }
  return tokens;
}

async function cycle(tg: Tollgate, token: string): Promise<'ok' | 'refused'> {
  try {
    const auth = await tg.guard.authorize(callRequest(token, { priceMicros: PRICE_MICROS, service: testService() }));
    if (auth.type !== 'authorized') return 'refused';
    await tg.guard.settle({ callId: auth.callId, status: 'ok', latencyMs: 1 });
    return 'ok';
  } catch (error) {
    if (error instanceof TollgateError && error.status < 500) return 'refused';
    throw error;
  }
}

async function run(tg: Tollgate, tokens: string[], seconds: number): Promise<{ ok: number; refused: number; latenciesMs: number[]; elapsedS: number }> {
  const end = performance.now() + seconds * 1000;
  const latenciesMs: number[] = [];
  let ok = 0;
  let refused = 0;
  const start = performance.now();
  await Promise.all(tokens.map(async (token) => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const result = await cycle(tg, token);
      latenciesMs.push(performance.now() - t0);
      if (result === 'ok') ok++;
      else refused++;
    }
  }));
  return { ok, refused, latenciesMs, elapsedS: (performance.now() - start) / 1000 };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function main(): Promise<void> {
  const schema = `bench_guard_${process.pid}`;
  const profile = process.env.BENCH_STATEMENTS === '1' ? new StatementProfile() : undefined;
  const opened = await openPostgresDb({ url: taggedUrl(url, schema), schema, poolSize: Number(process.env.BENCH_POOL ?? 8) });
  const db = profile ? profile.wrap(opened) : opened;
  await migrate(db);
  const [{ synchronous_commit }] = (await db.query<{ synchronous_commit: string }>('SHOW synchronous_commit')) as [{ synchronous_commit: string }];
  console.log(`postgres ${url} schema ${schema}, synchronous_commit=${synchronous_commit}, ${CALLERS} callers, ${SECONDS}s`);
  const tg = await openTollgate({ db });
  try {
    const tokens = await setup(tg, '1000000');
    await run(tg, tokens, 1); // warm-up: creates the period accounts and fills caches
    profile?.reset();
    const stopCpu = await cpuMeter(db, schema);
    const main = await run(tg, tokens, SECONDS);
    const cpu = await stopCpu();
    const sorted = main.latenciesMs.sort((a, b) => a - b);
    const cps = Math.round(main.ok / main.elapsedS);
    console.log(`throughput: ${cps} cycles/s (${main.ok} cycles, ${main.refused} refused) p50 ${pct(sorted, 0.5).toFixed(1)} ms p99 ${pct(sorted, 0.99).toFixed(1)} ms`);
    const perCycle = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${Math.round((ms * 1000) / Math.max(1, main.ok + main.refused))} µs`);
    console.log(`cpu per cycle: node ${perCycle(cpu.nodeMs)}, postgres ${perCycle(cpu.postgresMs)} (what bounds throughput when the cores are busy)`);
    profile?.print(main.ok + main.refused);

    const K = 2_000;
    const raceTokens = await setup(tg, formatMicros(BigInt(K) * PRICE_MICROS));
    const race = await run(tg, raceTokens, 3);
    const [org] = await db.query<{ id: string }>(`SELECT id FROM orgs WHERE name = 'bench' ORDER BY created_at DESC LIMIT 1`);
    const [spent] = await db.query<{ charged: bigint | null }>(`SELECT sum(charged_micros)::bigint AS charged FROM calls WHERE org_id = $1 AND state = 'captured'`, [org!.id]);
    const capMicros = BigInt(K) * PRICE_MICROS;
    const charged = spent?.charged ?? 0n;
    const overspend = charged > capMicros ? Number(charged - capMicros) : 0;
    const report = await tg.ledger.check();
    console.log(`race: org limit allows ${K} calls; ${race.ok} captured, ${race.refused} refused; charged ${charged} of ${capMicros} micro-units; ledger check ${report.ok ? 'ok' : 'FAILED'}`);
    console.log(JSON.stringify({ bench: 'guard', cps, p50_ms: Number(pct(sorted, 0.5).toFixed(2)), p99_ms: Number(pct(sorted, 0.99).toFixed(2)), overspend: report.ok ? overspend : -1 }));
  } finally {
    await tg.close();
    await db.query(`DROP SCHEMA ${schema} CASCADE`);
    await db.close();
  }
}

await main();
