/**
 * bench/ledger.ts — hold + post cycles per second on ONE hot account, 256 concurrent callers, for
 * (a) the naive way: one transaction per operation with a conditional UPDATE, and (b) group commit
 * through the SQL ledger store. On PostgreSQL (durable: `synchronous_commit` must be on) and on
 * PGlite (a data folder; PGlite never fsyncs, so its figures are not durable ones).
 *
 *   npm run bench:ledger     (TOLLGATE_TEST_DATABASE_URL or postgres://postgres@127.0.0.1:5432/test)
 *
 * Each engine gets a fresh schema (or folder) seeded with realistic history (BENCH_HISTORY transfers,
 * default 100k, then ANALYZE) so plans are the ones a live ledger gets. A cycle = hold 100 from the hot
 * account to the caller's merchant account, then post 80 of it (20 released). Overdrafts are counted
 * from the hot account's balances and the ledger's own invariant check after each run.
 *
 * Last line: {"bench":"ledger","postgres":{"naive_cps":N,"batched_cps":N},"pglite":{...},"overdrafts":0}
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openPgliteDb, openPostgresDb, type Db } from '../packages/core/src/db/index.ts';
import { ACCOUNT_FLAGS, openLedger, TRANSFER_FLAGS, type SqlLedger } from '../packages/core/src/ledger/index.ts';

const URL = process.env.TOLLGATE_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const CALLERS = Number(process.env.BENCH_CALLERS ?? 256);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 9);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 100_000);
const HOLD = 100n;
const POST = 80n;
const FUNDING = 10n ** 15n;

interface Run {
  cycles: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  note: string;
}

/** Seeds accounts, the hot accounts' funding, and history rows (half single-phase, half hold+post). */
async function seed(db: Db): Promise<void> {
  const accounts = ['world', 'hot_naive', 'hot_batched', ...Array.from({ length: CALLERS }, (_, i) => `m_${i}`), ...Array.from({ length: 1000 }, (_, i) => `seed_${i}`)];
  const ledger = await openLedger(db);
  for (let i = 0; i < accounts.length; i += 500) {
    await ledger.createAccounts(accounts.slice(i, i + 500).map((id) => ({ id, ledger: 1, code: 1, currency: 'USD', flags: id.startsWith('hot') ? ACCOUNT_FLAGS.debitsMustNotExceedCredits : 0 })));
  }
  await ledger.createTransfers([
    { id: 'fund_naive', debitAccountId: 'world', creditAccountId: 'hot_naive', amount: FUNDING },
    { id: 'fund_batched', debitAccountId: 'world', creditAccountId: 'hot_batched', amount: FUNDING },
  ]);
  await ledger.close();
  const half = Math.floor(HISTORY / 2);
  const quarter = Math.floor(HISTORY / 4);
  await db.exec(`
    INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, ledger, code, flags, timestamp_ms)
      SELECT 'h_s_' || i, 'world', 'seed_' || (i % 1000), 7, 1, 1, 0, 0 FROM generate_series(1, ${half}) i;
    INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, timeout_seconds, ledger, code, flags, timestamp_ms)
      SELECT 'h_p_' || i, 'world', 'seed_' || (i % 1000), 10, 60, 1, 1, 2, 0 FROM generate_series(1, ${quarter}) i;
    INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id, ledger, code, flags, timestamp_ms)
      SELECT 'h_c_' || i, 'world', 'seed_' || (i % 1000), 10, 'h_p_' || i, 1, 1, 4, 0 FROM generate_series(1, ${quarter}) i;
    INSERT INTO ledger_pending (id, debit_account_id, credit_account_id, amount, flags, expires_at_ms, state)
      SELECT 'h_p_' || i, 'world', 'seed_' || (i % 1000), 10, 2, 60000, 'posted' FROM generate_series(1, ${quarter}) i;
    UPDATE ledger_accounts a SET credits_posted = s.total FROM (
      SELECT credit_account_id AS id, sum(amount)::bigint AS total FROM ledger_transfers WHERE flags & 10 = 0 GROUP BY 1) s
      WHERE a.id = s.id AND a.id LIKE 'seed_%';
    UPDATE ledger_accounts SET debits_posted = (SELECT sum(amount)::bigint FROM ledger_transfers WHERE debit_account_id = 'world' AND flags & 10 = 0)
      WHERE id = 'world';
  `);
  await db.exec('ANALYZE');
}

/** The naive hold: one transaction, a conditional UPDATE that refuses to overdraw. */
async function naiveHold(db: Db, id: string, merchant: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const ok = await tx.query(
      `UPDATE ledger_accounts SET debits_pending = debits_pending + $2
       WHERE id = $1 AND debits_pending + debits_posted + $2 <= credits_posted RETURNING id`,
      ['hot_naive', HOLD.toString()],
    );
    if (ok.length === 0) return false;
    await tx.query('UPDATE ledger_accounts SET credits_pending = credits_pending + $2 WHERE id = $1', [merchant, HOLD.toString()]);
    await tx.query(
      `INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, timeout_seconds, ledger, code, flags, timestamp_ms)
       VALUES ($1, 'hot_naive', $2, $3, 60, 1, 1, 2, $4)`,
      [id, merchant, HOLD.toString(), Date.now()],
    );
    await tx.query(
      `INSERT INTO ledger_pending (id, debit_account_id, credit_account_id, amount, flags, expires_at_ms, state) VALUES ($1, 'hot_naive', $2, $3, 2, $4, 'pending')`,
      [id, merchant, HOLD.toString(), Date.now() + 60_000],
    );
    return true;
  });
}

/** The naive post: lock the hold, move pending to posted on both accounts, record the post. */
async function naivePost(db: Db, id: string, holdId: string, merchant: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const hold = await tx.query<{ amount: bigint }>(`SELECT amount FROM ledger_pending WHERE id = $1 AND state = 'pending' FOR UPDATE`, [holdId]);
    if (hold.length === 0) return false;
    await tx.query('UPDATE ledger_accounts SET debits_pending = debits_pending - $2, debits_posted = debits_posted + $3 WHERE id = $1', ['hot_naive', HOLD.toString(), POST.toString()]);
    await tx.query('UPDATE ledger_accounts SET credits_pending = credits_pending - $2, credits_posted = credits_posted + $3 WHERE id = $1', [merchant, HOLD.toString(), POST.toString()]);
    await tx.query(
      `INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, pending_id, ledger, code, flags, timestamp_ms)
       VALUES ($1, 'hot_naive', $2, $3, $4, 1, 1, 4, $5)`,
      [id, merchant, POST.toString(), holdId, Date.now()],
    );
    await tx.query(`UPDATE ledger_pending SET state = 'posted' WHERE id = $1`, [holdId]);
    return true;
  });
}

type Cycle = (caller: number, n: number) => Promise<void>;

/** Runs CALLERS loops of `cycle` for SECONDS; returns cycles completed and latency percentiles. */
async function drive(cycle: Cycle, note: string): Promise<Run> {
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async (_, caller) => {
      for (let n = 0; performance.now() < end; n += 1) {
        const t0 = performance.now();
        await cycle(caller, n);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { cycles: latencies.length, seconds, p50Ms: at(0.5), p99Ms: at(0.99), note };
}

function naiveCycle(db: Db, tag: string): Cycle {
  return async (caller, n) => {
    const holdId = `${tag}_n_${caller}_${n}`;
    const merchant = `m_${caller}`;
    if (!(await naiveHold(db, holdId, merchant))) throw new Error('naive hold refused: the hot account is funded for the whole run');
    if (!(await naivePost(db, `${holdId}_p`, holdId, merchant))) throw new Error(`naive post of ${holdId} refused`);
  };
}

function batchedCycle(ledger: SqlLedger, tag: string): Cycle {
  return async (caller, n) => {
    const holdId = `${tag}_b_${caller}_${n}`;
    const [hold] = await ledger.createTransfers([{ id: holdId, debitAccountId: 'hot_batched', creditAccountId: `m_${caller}`, amount: HOLD, flags: TRANSFER_FLAGS.pending, timeoutSeconds: 60 }]);
    if (hold?.status !== 'created') throw new Error(`hold ${holdId}: ${hold?.status}`);
    const [post] = await ledger.createTransfers([{ id: `${holdId}_p`, pendingId: holdId, amount: POST, flags: TRANSFER_FLAGS.postPending }]);
    if (post?.status !== 'created') throw new Error(`post of ${holdId}: ${post?.status}`);
  };
}

/** Overdrafts: hot accounts whose debits exceed their credits, plus every limit-flag violation the check finds. */
async function overdrafts(db: Db, ledger: SqlLedger): Promise<number> {
  const rows = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ledger_accounts WHERE id LIKE 'hot%' AND debits_pending + debits_posted > credits_posted`,
  );
  const report = await ledger.check();
  if (!report.ok) console.log('  invariant check:', JSON.stringify(report.violations.slice(0, 5)));
  const flagViolations = report.violations.filter((v) => v.rule.endsWith('_must_not_exceed_credits') || v.rule.endsWith('_must_not_exceed_debits')).length;
  return (rows[0]?.n ?? 0) + flagViolations;
}

function print(engine: string, mode: string, run: Run, extra = ''): number {
  const cps = Math.round(run.cycles / run.seconds);
  console.log(`${engine.padEnd(8)} ${mode.padEnd(8)} ${String(cps).padStart(7)} cycles/s  p50 ${run.p50Ms.toFixed(1)} ms  p99 ${run.p99Ms.toFixed(1)} ms  (${run.cycles} cycles in ${run.seconds.toFixed(1)} s) ${extra}`);
  return cps;
}

async function benchEngine(engine: string, naiveDb: Db, batchDb: Db): Promise<{ naive: number; batched: number; overdrafts: number }> {
  const tag = `${engine}${Date.now()}`;
  const naive = await drive(naiveCycle(naiveDb, tag), 'naive');
  const naiveCps = print(engine, 'naive', naive);
  const ledger = await openLedger(batchDb);
  const batched = await drive(batchedCycle(ledger, tag), 'batched');
  const s = ledger.writerStats;
  const batchedCps = print(engine, 'batched', batched, `mean batch ${(s.events / Math.max(1, s.batches)).toFixed(0)} events, ${s.batches} batches`);
  const report = await ledger.check();
  console.log(`${engine.padEnd(8)} check: ${report.ok ? 'ok' : 'VIOLATIONS'} (${report.accounts} accounts, ${report.transfers} transfers, ${report.pendingHolds} pending)`);
  const over = await overdrafts(batchDb, ledger);
  await ledger.close();
  return { naive: naiveCps, batched: batchedCps, overdrafts: over + (report.ok ? 0 : 1) };
}

async function benchPostgres() {
  const schema = `bench_ledger_${process.pid}`;
  const naiveDb = await openPostgresDb({ url: URL, schema, poolSize: 16 });
  const batchDb = await openPostgresDb({ url: URL, schema, poolSize: 2 });
  try {
    const [sync] = await naiveDb.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
    if (sync?.synchronous_commit !== 'on') throw new Error(`synchronous_commit is ${sync?.synchronous_commit}; the benchmark needs durable commits (on)`);
    await migrate(naiveDb);
    await seed(naiveDb);
    console.log(`postgres ${URL} schema ${schema}: synchronous_commit=on, ${HISTORY} history transfers, ${CALLERS} callers, ${SECONDS} s per run`);
    return await benchEngine('postgres', naiveDb, batchDb);
  } finally {
    await naiveDb.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await naiveDb.close();
    await batchDb.close();
  }
}

async function benchPglite() {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  const db = await openPgliteDb({ dataDir: dir });
  try {
    await migrate(db);
    await seed(db);
    console.log(`pglite   data folder ${dir} (PGlite never fsyncs: not durable), ${HISTORY} history transfers`);
    return await benchEngine('pglite', db, db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const postgres = await benchPostgres();
const pglite = await benchPglite();
console.log(`postgres: batched / naive = ${(postgres.batched / Math.max(1, postgres.naive)).toFixed(1)}x`);
console.log(
  JSON.stringify({
    bench: 'ledger',
    postgres: { naive_cps: postgres.naive, batched_cps: postgres.batched },
    pglite: { naive_cps: pglite.naive, batched_cps: pglite.batched },
    overdrafts: postgres.overdrafts + pglite.overdrafts,
  }),
);
