import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertLedgerHealthy } from '../testing/invariants.ts';
import { createMemoryLedger } from './memory-store.ts';
import { startSweeper } from './sweeper.ts';
import { ACCOUNT_FLAGS, TRANSFER_FLAGS } from './types.ts';

test('the sweeper releases expired holds, drains a backlog in full pages, and stops', async () => {
  const clock = { ms: 1_000_000 };
  const ledger = createMemoryLedger({ now: () => clock.ms });
  await ledger.createAccounts([
    { id: 'w', ledger: 1, code: 1, currency: 'USD' },
    { id: 'b', ledger: 1, code: 1, currency: 'USD', flags: ACCOUNT_FLAGS.debitsMustNotExceedCredits },
  ]);
  await ledger.createTransfers([{ id: 'f', debitAccountId: 'w', creditAccountId: 'b', amount: 1_000n }]);
  for (let i = 0; i < 25; i += 1) {
    const [r] = await ledger.createTransfers([{ id: `h${i}`, debitAccountId: 'b', creditAccountId: 'w', amount: 10n, flags: TRANSFER_FLAGS.pending, timeoutSeconds: 1 + (i % 2) }]);
    assert.equal(r!.status, 'created');
  }
  const errors: unknown[] = [];
  const stop = startSweeper(ledger, { intervalMs: 5, limit: 4, onError: (e) => errors.push(e) });
  try {
    clock.ms += 1_000;
    const deadline = Date.now() + 2_000;
    while ((await ledger.lookupAccounts(['b']))[0]!.debitsPending !== 120n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await ledger.lookupAccounts(['b']))[0]!.debitsPending, 120n, 'the 13 one-second holds expired, the 12 two-second ones remain');
    clock.ms += 1_000;
    while ((await ledger.lookupAccounts(['b']))[0]!.debitsPending !== 0n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await ledger.lookupAccounts(['b']))[0]!.debitsPending, 0n);
  } finally {
    await stop();
  }
  assert.deepEqual(errors, []);
  await assertLedgerHealthy(ledger);
});

test('startSweeper refuses a nonsensical interval', () => {
  assert.throws(() => startSweeper(createMemoryLedger(), { intervalMs: 0 }), /intervalMs/);
});
