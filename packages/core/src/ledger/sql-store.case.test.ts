/**
 * What only the SQL store has: the database's own defences (CHECK constraints, append-only transfers),
 * bisection of a poisoned batch, the invariant check catching a tampered balance, and close().
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases, type TestDb } from '../testing/databases.ts';
import { assertLedgerHealthy } from '../testing/invariants.ts';
import { openLedger, type SqlLedger } from './sql-store.ts';
import { ACCOUNT_FLAGS, TRANSFER_FLAGS } from './types.ts';

for (const engine of testDatabases) {
  describe(`SQL ledger store on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb;
    let ledger: SqlLedger;
    before(async () => {
      db = await engine.open();
      ledger = await openLedger(db);
      await ledger.createAccounts([
        { id: 'w', ledger: 1, code: 1, currency: 'USD' },
        { id: 'dm', ledger: 1, code: 1, currency: 'USD', flags: ACCOUNT_FLAGS.debitsMustNotExceedCredits },
        { id: 'x', ledger: 1, code: 1, currency: 'USD' },
      ]);
      await ledger.createTransfers([{ id: 'fund', debitAccountId: 'w', creditAccountId: 'dm', amount: 1_000n }]);
    });
    // Every test must leave the ledger balanced, with every account within its flags.
    afterEach(() => assertLedgerHealthy(ledger));
    after(async () => {
      await assertLedgerHealthy(ledger);
      await ledger.close();
      await db.close();
    });

    test('a request the database refuses fails alone; the rest of its batch commits', async () => {
      const requests = ['a', 'b', 'c', 'poison', 'd', 'e'].map((id) =>
        ledger.createTransfers([
          // jsonb refuses \u0000: valid JSON that fails only inside the database, like a bug would.
          { id: `bisect_${id}`, debitAccountId: 'dm', creditAccountId: 'x', amount: 10n, metadata: id === 'poison' ? { s: '\u0000' } : {} },
        ]),
      );
      const outcomes = await Promise.allSettled(requests);
      assert.deepEqual(outcomes.map((o) => (o.status === 'fulfilled' ? o.value[0]!.status : 'rejected')), ['created', 'created', 'created', 'rejected', 'created', 'created']);
      assert.ok(ledger.writerStats.bisects > 0, 'the batch should have been bisected');
      assert.deepEqual(await ledger.lookupTransfers(['bisect_poison']), []);
      assert.equal((await ledger.lookupAccounts(['dm']))[0]!.debitsPosted, 50n);
    });

    test('the database refuses an overdraft even if the state machine were wrong (CHECK constraint)', async () => {
      await assert.rejects(db.query(`UPDATE ledger_accounts SET debits_posted = credits_posted + 1 WHERE id = 'dm'`), /ledger_accounts_debits_within_credits/);
    });

    test('transfers are append-only: UPDATE and DELETE are refused', async () => {
      await assert.rejects(db.query(`UPDATE ledger_transfers SET amount = 1 WHERE id = 'fund'`), /append-only/);
      await assert.rejects(db.query(`DELETE FROM ledger_transfers WHERE id = 'fund'`), /append-only/);
    });

    test('check() reports a balance that no longer matches the history, and double entry broken', async () => {
      await db.query(`UPDATE ledger_accounts SET credits_posted = credits_posted + 5 WHERE id = 'x'`);
      try {
        const report = await ledger.check();
        assert.equal(report.ok, false);
        assert.deepEqual(report.violations.map((v) => v.rule).sort(), ['balance_matches_history', 'double_entry_posted']);
      } finally {
        await db.query(`UPDATE ledger_accounts SET credits_posted = credits_posted - 5 WHERE id = 'x'`);
      }
      assert.equal((await ledger.check()).ok, true);
    });

    test('a hold and its post in the same batch: the post sees the hold', async () => {
      const [hold, post, again] = await Promise.all([
        ledger.createTransfers([{ id: 'same_h', debitAccountId: 'dm', creditAccountId: 'x', amount: 30n, flags: TRANSFER_FLAGS.pending }]),
        ledger.createTransfers([{ id: 'same_p', pendingId: 'same_h', amount: 20n, flags: TRANSFER_FLAGS.postPending }]),
        ledger.createTransfers([{ id: 'same_p2', pendingId: 'same_h', flags: TRANSFER_FLAGS.voidPending }]),
      ]);
      assert.deepEqual([hold[0]!.status, post[0]!.status, again[0]!.status], ['created', 'created', 'pending_transfer_already_posted']);
    });

    test('close() lets queued requests commit, then refuses new ones', async () => {
      const other = await openLedger(db);
      const queued = Array.from({ length: 20 }, (_, i) => other.createTransfers([{ id: `close_${i}`, debitAccountId: 'w', creditAccountId: 'x', amount: 1n }]));
      await other.close();
      assert.ok((await Promise.all(queued)).every(([r]) => r!.status === 'created'));
      await assert.rejects(other.createTransfers([{ id: 'after_close', debitAccountId: 'w', creditAccountId: 'x', amount: 1n }]), /closed/);
    });
  });
}
