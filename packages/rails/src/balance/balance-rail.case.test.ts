import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openTollgate } from '@tollgate/core';
import { assertTollgateHealthy, callRequest, grantFor, seedBuyer, testDatabases } from '@tollgate/core/testing';
import { BalanceRail } from './index.ts';

for (const database of testDatabases) {
  describe(`balance rail (${database.kind})`, { skip: database.skip }, () => {
    test('authorize holds, settle captures, void releases, a retry is a replay', async () => {
      const db = await database.open();
      const tg = await openTollgate({ db });
      try {
        const buyer = await seedBuyer(tg, { funds: '1.00' });
        const token = await grantFor(tg, buyer);
        const rail = new BalanceRail({ guard: tg.guard });
        assert.deepEqual(rail.describe(), { rail: 'balance', summary: 'internal prepaid balance (the ledger)', currency: 'USD', external: false });

        const paid = await rail.authorize(callRequest(token, { priceMicros: 250_000n }));
        assert.equal(paid.authorization.type, 'authorized');
        assert.equal(paid.amountMicros, 250_000n);
        assert.equal((await tg.wallets.balance(buyer.userId)).heldMicros, 250_000n);
        const settled = await rail.settle(paid, { status: 'ok' });
        assert.deepEqual({ outcome: settled.outcome, amount: settled.amountMicros, replay: settled.replay }, { outcome: 'settled', amount: 250_000n, replay: false });
        assert.equal((await rail.settle(paid, { status: 'ok' })).replay, true);

        const failed = await rail.authorize(callRequest(token, { priceMicros: 100_000n }));
        const voided = await rail.void(failed, 'the upstream failed');
        assert.deepEqual({ outcome: voided.outcome, amount: voided.amountMicros }, { outcome: 'voided', amount: 0n });

        const again = await rail.authorize(callRequest(token, { idempotencyKey: 'same', priceMicros: 100_000n }));
        await rail.settle(again, { status: 'ok' });
        const replayed = await rail.authorize(callRequest(token, { idempotencyKey: 'same', priceMicros: 100_000n }));
        assert.equal(replayed.authorization.type, 'replayed');
        await assert.rejects(rail.settle(replayed, { status: 'ok' }), /nothing to settle/);

        await assert.rejects(rail.authorize(callRequest(token, { priceMicros: 5_000_000n })), (e: Error & { code?: string }) => e.code === 'insufficient_funds' || e.code === 'budget_exceeded');
        const wallet = await tg.wallets.balance(buyer.userId);
        assert.equal(wallet.availableMicros, 1_000_000n - 350_000n);
        assert.equal(wallet.heldMicros, 0n);
        await assertTollgateHealthy(tg);
      } finally {
        await tg.close();
        await db.close();
      }
    });
  });
}
