/**
 * Concurrency and crash tests: 1,000 concurrent holds against an account that allows exactly K; the
 * same race from two OS processes on one Postgres; and a process killed with SIGKILL while holding,
 * whose holds the sweeper releases after their timeout (on Postgres, and on a PGlite data folder
 * reopened by the next process).
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate } from '../db/migrate.ts';
import { openPgliteDb } from '../db/pglite.ts';
import { testDatabases, type TestDb } from '../testing/databases.ts';
import { assertLedgerHealthy } from '../testing/invariants.ts';
import { openLedger, type SqlLedger } from './sql-store.ts';
import { startSweeper } from './sweeper.ts';
import { ACCOUNT_FLAGS, TRANSFER_FLAGS } from './types.ts';

const CHILD = fileURLToPath(new URL('../../test/ledger-child.ts', import.meta.url));
const AMOUNT = 7n;

interface ChildHandle {
  process: ChildProcess;
  /** Resolves when the child has its database open and waits for the start time. */
  ready: Promise<void>;
  /** The child's JSON line, once it has placed its holds. */
  result: Promise<{ created: number; refused: number }>;
}

function spawnChild(args: Record<string, unknown>): ChildHandle {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const lines = (resolveWhen: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const scan = () => {
        for (const line of out.split('\n').filter((l) => l.startsWith('{'))) {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (resolveWhen(parsed)) resolve(parsed);
        }
      };
      child.stdout!.on('data', scan);
      child.on('exit', (code) => reject(new Error(`child exited with ${code} before reporting`)));
    });
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const ready = lines((l) => l.ready === true).then(() => undefined);
  const result = lines((l) => typeof l.created === 'number') as Promise<{ created: number; refused: number }>;
  ready.catch(() => {});
  return { process: child, ready, result };
}

/** A funded account that allows exactly `k` holds of AMOUNT, and a merchant to receive them. */
async function setUp(ledger: SqlLedger, tag: string, k: number): Promise<{ account: string; merchant: string }> {
  const account = `${tag}_budget`;
  const merchant = `${tag}_merchant`;
  const results = await ledger.createAccounts([
    { id: `${tag}_source`, ledger: 1, code: 1, currency: 'USD' },
    { id: account, ledger: 1, code: 1, currency: 'USD', flags: ACCOUNT_FLAGS.debitsMustNotExceedCredits },
    { id: merchant, ledger: 1, code: 1, currency: 'USD' },
  ]);
  assert.deepEqual(results.map((r) => r.status), ['created', 'created', 'created']);
  const [fund] = await ledger.createTransfers([{ id: `${tag}_fund`, debitAccountId: `${tag}_source`, creditAccountId: account, amount: AMOUNT * BigInt(k) }]);
  assert.equal(fund?.status, 'created');
  return { account, merchant };
}

function holds(ledger: SqlLedger, tag: string, account: string, merchant: string, count: number, timeoutSeconds = 0) {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      ledger.createTransfers([{ id: `${tag}_${i}`, debitAccountId: account, creditAccountId: merchant, amount: AMOUNT, flags: TRANSFER_FLAGS.pending, timeoutSeconds }]),
    ),
  );
}

for (const engine of testDatabases) {
  describe(`ledger concurrency on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb;
    let ledger: SqlLedger;
    before(async () => {
      db = await engine.open();
      ledger = await openLedger(db);
    });
    // Every test must leave the ledger balanced, with every account within its flags.
    afterEach(() => assertLedgerHealthy(ledger));
    after(async () => {
      await assertLedgerHealthy(ledger);
      await ledger.close();
      await db.close();
    });

    test('1,000 concurrent holds against an account that allows exactly K: exactly K succeed', async () => {
      const k = 137;
      const { account, merchant } = await setUp(ledger, 'race', k);
      const results = await holds(ledger, 'race_h', account, merchant, 1_000);
      const statuses = results.map(([r]) => r!.status);
      assert.equal(statuses.filter((s) => s === 'created').length, k);
      assert.equal(statuses.filter((s) => s === 'exceeds_credits').length, 1_000 - k);
      const [a] = await ledger.lookupAccounts([account]);
      assert.equal(a!.debitsPending, AMOUNT * BigInt(k));
      assert.equal(a!.creditsPosted, AMOUNT * BigInt(k));
      assert.ok(ledger.writerStats.batches < 1_000, 'holds should have shared batches');
      await assertLedgerHealthy(ledger);
    });

    // Tests that need a second OS process on the same database exist only for Postgres: an embedded
    // PGlite belongs to one process (its data-folder crash test is the suite below).
    if (engine.kind === 'postgres') test('two OS processes on one database never overspend together', async () => {
      // More than either process asks for alone, so both must win some and the last holds race.
      const k = 700;
      const { account, merchant } = await setUp(ledger, 'duo', k);
      const child = spawnChild({ url: db.url, schema: db.schema, account, merchant, tag: 'duo_child', count: 500, amount: String(AMOUNT), timeoutSeconds: 0, startAtMs: 0, hang: false });
      await child.ready;
      const startAtMs = Date.now() + 50;
      child.process.stdin!.end(`${startAtMs}\n`);
      while (Date.now() < startAtMs) await new Promise((resolve) => setTimeout(resolve, 1));
      let mine = 0;
      for (let wave = 0; wave < 10; wave += 1) {
        mine += (await holds(ledger, `duo_parent_${wave}`, account, merchant, 50)).filter(([r]) => r!.status === 'created').length;
      }
      const theirs = await child.result;
      assert.ok(mine > 0 && theirs.created > 0, 'both processes should win some holds');
      assert.equal(mine + theirs.created, k, `parent ${mine} + child ${theirs.created}`);
      const [a] = await ledger.lookupAccounts([account]);
      assert.equal(a!.debitsPending, AMOUNT * BigInt(k));
      await assertLedgerHealthy(ledger);
    });

    if (engine.kind === 'postgres') test('two OS processes submitting the same transfer ids: each applies once, the other answers exists', async () => {
      const { account, merchant } = await setUp(ledger, 'twin', 1_000);
      const child = spawnChild({ url: db.url, schema: db.schema, account, merchant, tag: 'twin_h', count: 300, amount: String(AMOUNT), timeoutSeconds: 0, startAtMs: 0, hang: false });
      await child.ready;
      const startAtMs = Date.now() + 50;
      child.process.stdin!.end(`${startAtMs}\n`);
      while (Date.now() < startAtMs) await new Promise((resolve) => setTimeout(resolve, 1));
      const mine: string[] = [];
      for (let wave = 0; wave < 300; wave += 50) {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            ledger.createTransfers([{ id: `twin_h_${wave + j}`, debitAccountId: account, creditAccountId: merchant, amount: AMOUNT, flags: TRANSFER_FLAGS.pending }]),
          ),
        );
        mine.push(...results.map(([r]) => r!.status));
      }
      const theirs = await child.result;
      assert.deepEqual([...new Set(mine)].filter((s) => s !== 'created' && s !== 'exists'), []);
      assert.equal(mine.filter((s) => s === 'created').length + theirs.created, 300);
      assert.equal((await ledger.lookupAccounts([account]))[0]!.debitsPending, AMOUNT * 300n);
      await assertLedgerHealthy(ledger);
    });

    if (engine.kind === 'postgres') test('a process killed with SIGKILL while holding: after the timeout the sweeper releases its holds', async () => {
      const { account, merchant } = await setUp(ledger, 'crash', 100);
      const child = spawnChild({ url: db.url, schema: db.schema, account, merchant, tag: 'crash_child', count: 40, amount: String(AMOUNT), timeoutSeconds: 1, startAtMs: 0, hang: true });
      const placed = await child.result;
      assert.equal(placed.created, 40);
      child.process.kill('SIGKILL');
      await new Promise((resolve) => child.process.once('exit', resolve));
      const [held] = await ledger.lookupAccounts([account]);
      assert.equal(held!.debitsPending, AMOUNT * 40n, 'the dead process left its holds');
      const stop = startSweeper(ledger, { intervalMs: 100 });
      try {
        const deadline = Date.now() + 10_000;
        let released = held!;
        while (released.debitsPending !== 0n && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          released = (await ledger.lookupAccounts([account]))[0]!;
        }
        assert.equal(released.debitsPending, 0n, 'holds should be released after their timeout');
        assert.equal(released.debitsPosted, 0n);
        const states = await ledger.lookupPending(Array.from({ length: 40 }, (_, i) => `crash_child_${i}`));
        assert.deepEqual(new Set(states.values()), new Set(['expired']));
        const [late] = await ledger.createTransfers([{ id: 'crash_late_post', pendingId: 'crash_child_0', flags: TRANSFER_FLAGS.postPending }]);
        assert.equal(late!.status, 'pending_transfer_expired');
      } finally {
        await stop();
      }
      await assertLedgerHealthy(ledger);
    });
  });
}

describe('ledger crash on a PGlite data folder', () => {
  test('a process killed with SIGKILL while holding: the next process sweeps its holds after the timeout', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-ledger-crash-'));
    try {
      // Set up the accounts from this process, then let go of the folder (PGlite is single-process).
      let db = await openPgliteDb({ dataDir });
      await migrate(db);
      let ledger = await openLedger(db);
      const { account, merchant } = await setUp(ledger, 'crash', 100);
      await ledger.close();
      await db.close();
      const child = spawnChild({ dataDir, account, merchant, tag: 'crash_child', count: 20, amount: String(AMOUNT), timeoutSeconds: 1, startAtMs: 1, hang: true });
      assert.equal((await child.result).created, 20);
      child.process.kill('SIGKILL');
      await new Promise((resolve) => child.process.once('exit', resolve));
      db = await openPgliteDb({ dataDir });
      ledger = await openLedger(db);
      try {
        const [held] = await ledger.lookupAccounts([account]);
        assert.equal(held!.debitsPending, AMOUNT * 20n, 'the killed process left its holds');
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        assert.equal(await ledger.expirePending(), 20);
        const [released] = await ledger.lookupAccounts([account]);
        assert.equal(released!.debitsPending, 0n);
        await assertLedgerHealthy(ledger);
      } finally {
        await ledger.close();
        await db.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
