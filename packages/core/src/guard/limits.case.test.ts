import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases, type TestDb } from '../testing/databases.ts';
import { callRequest, grantFor, seedBuyer, testService } from '../testing/fixtures.ts';
import { openTollgate, type Tollgate } from '../tollgate.ts';
import { TollgateError } from '../errors.ts';
import { assertTollgateHealthy } from '../testing/invariants.ts';

/** Asserts that `promise` is refused with `code` (and, when given, the named limit). */
async function refused(promise: Promise<unknown>, code: string, limit?: string): Promise<TollgateError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TollgateError, `expected a TollgateError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (limit) assert.equal(error.data.limit, limit, error.message);
    return error;
  }
  assert.fail(`expected ${code}, but the call was authorized`);
}

for (const engine of testDatabases) {
  describe(`budget guard limits on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb;
    let tg: Tollgate;
    let clock: Date;
    before(async () => {
      db = await engine.open();
      clock = new Date('2026-11-22T10:00:00Z');
      tg = await openTollgate({ db, now: () => clock });
    });
    after(async () => {
      await assertTollgateHealthy(tg);
      await tg.close();
      await db.close();
    });

    test('a paid call holds, captures, splits to the seller and records remaining', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { totalCap: '1.00' });
      const auth = await tg.guard.authorize(callRequest(token, { priceMicros: 250_000n }));
      assert.equal(auth.type, 'authorized');
      if (auth.type !== 'authorized') return;
      assert.equal(auth.holdMicros, 250_000n);
      assert.equal(auth.remainingMicros, 750_000n);
      const settled = await tg.guard.settle({ callId: auth.callId, status: 'ok' });
      assert.deepEqual([settled.outcome, settled.chargedMicros, settled.remainingMicros], ['captured', 250_000n, 750_000n]);
      const wallet = await tg.wallets.balance(buyer.userId);
      assert.equal(wallet.availableMicros, 100_000_000n - 250_000n);
      assert.equal(wallet.heldMicros, 0n);
    });

    test('per-call cap blocks on its own', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { perCallCap: '0.05' });
      const error = await refused(tg.guard.authorize(callRequest(token, { priceMicros: 60_000n })), 'budget_exceeded', 'per_call');
      assert.equal(error.data.cap, '0.05');
    });

    test('grant total blocks and names cap, used, remaining', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { totalCap: '0.03' });
      for (let i = 0; i < 3; i++) {
        const auth = await tg.guard.authorize(callRequest(token));
        assert.equal(auth.type, 'authorized');
        if (auth.type === 'authorized') await tg.guard.settle({ callId: auth.callId, status: 'ok' });
      }
      const error = await refused(tg.guard.authorize(callRequest(token)), 'budget_exceeded', 'grant_total');
      assert.deepEqual([error.data.cap, error.data.used, error.data.remaining, error.data.requested], ['0.03', '0.03', '0.00', '0.01']);
    });

    for (const [limit, options] of [
      ['user_monthly', { userMonthly: '0.02' }],
      ['project_monthly', { projectMonthly: '0.02' }],
      ['org_monthly', { orgMonthly: '0.02' }],
    ] as const) {
      test(`${limit} blocks on its own`, async () => {
        const buyer = await seedBuyer(tg, options);
        const token = await grantFor(tg, buyer);
        for (let i = 0; i < 2; i++) assert.equal((await tg.guard.authorize(callRequest(token))).type, 'authorized');
        await refused(tg.guard.authorize(callRequest(token)), 'budget_exceeded', limit);
      });
    }

    test('service monthly limit per user blocks on its own', async () => {
      const buyer = await seedBuyer(tg);
      await tg.limits.setServiceLimit({ orgId: buyer.orgId, serviceId: 'svc_search', perUserMonthly: '0.01' });
      const token = await grantFor(tg, buyer);
      assert.equal((await tg.guard.authorize(callRequest(token))).type, 'authorized');
      await refused(tg.guard.authorize(callRequest(token)), 'budget_exceeded', 'service_monthly');
      const other = await tg.guard.authorize(callRequest(token, { service: testService({ id: 'svc_other', slug: 'other' }) }));
      assert.equal(other.type, 'authorized');
    });

    test('agent daily tier blocks on its own and resets the next day', async () => {
      const buyer = await seedBuyer(tg);
      await tg.principals.updateOrgSettings(buyer.orgId, { agentDailyTiers: ['0.01', '0.02', '0.03'] });
      const token = await grantFor(tg, buyer, { agentId: buyer.agentId });
      for (let i = 0; i < 2; i++) assert.equal((await tg.guard.authorize(callRequest(token))).type, 'authorized');
      await refused(tg.guard.authorize(callRequest(token)), 'budget_exceeded', 'agent_daily');
      clock = new Date(clock.getTime() + 24 * 3600_000);
      assert.equal((await tg.guard.authorize(callRequest(token))).type, 'authorized');
    });

    test('rate limit per minute blocks with retryAfterSeconds, then the next minute passes', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { ratePerMinute: 2 });
      for (let i = 0; i < 2; i++) assert.equal((await tg.guard.authorize(callRequest(token))).type, 'authorized');
      const error = await refused(tg.guard.authorize(callRequest(token)), 'rate_limited', 'rate_per_minute');
      assert.ok(Number(error.data.retryAfterSeconds) > 0);
      clock = new Date(clock.getTime() + 60_000);
      assert.equal((await tg.guard.authorize(callRequest(token))).type, 'authorized');
    });

    test('free tier: the first N calls a month are free, then the price is held', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer);
      const service = testService({ id: 'svc_free', slug: 'free', freeCallsPerMonth: 2 });
      for (let i = 0; i < 2; i++) {
        const auth = await tg.guard.authorize(callRequest(token, { service }));
        assert.equal(auth.type === 'authorized' && auth.free, true);
        if (auth.type === 'authorized') assert.equal((await tg.guard.settle({ callId: auth.callId, status: 'ok' })).chargedMicros, 0n);
      }
      const paid = await tg.guard.authorize(callRequest(token, { service }));
      assert.equal(paid.type === 'authorized' && !paid.free && paid.holdMicros === 10_000n, true);
    });

    test('insufficient funds names what is available', async () => {
      const buyer = await seedBuyer(tg, { funds: '0.015' });
      const token = await grantFor(tg, buyer);
      assert.equal((await tg.guard.authorize(callRequest(token))).type, 'authorized');
      const error = await refused(tg.guard.authorize(callRequest(token)), 'insufficient_funds');
      assert.equal(error.data.available, '0.005');
    });

    test('in combination, the first limit that does not fit is named and nothing is held', async () => {
      const buyer = await seedBuyer(tg, { userMonthly: '0.05', orgMonthly: '0.02' });
      const token = await grantFor(tg, buyer, { totalCap: '0.04' });
      await tg.guard.authorize(callRequest(token, { priceMicros: 20_000n }));
      await refused(tg.guard.authorize(callRequest(token, { priceMicros: 10_000n })), 'budget_exceeded', 'org_monthly');
      const views = await tg.grants.list({ userId: buyer.userId });
      assert.equal(views[0]!.heldMicros, 20_000n, 'the refused call held nothing on the grant');
    });

    test('settle with actual below the hold releases the rest; above the hold is refused', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { totalCap: '1.00' });
      const auth = await tg.guard.authorize(callRequest(token, { priceMicros: 500_000n, pricing: 'usage' }));
      assert.equal(auth.type, 'authorized');
      if (auth.type !== 'authorized') return;
      await refused(tg.guard.settle({ callId: auth.callId, status: 'ok', actualMicros: 500_001n }), 'invalid_amount');
      const settled = await tg.guard.settle({ callId: auth.callId, status: 'ok', actualMicros: 120_000n });
      assert.equal(settled.chargedMicros, 120_000n);
      assert.equal(settled.remainingMicros, 880_000n);
      assert.equal((await tg.wallets.balance(buyer.userId)).heldMicros, 0n);
    });

    test('a failed upstream voids: nothing is charged and the hold comes back', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { totalCap: '1.00' });
      const auth = await tg.guard.authorize(callRequest(token, { priceMicros: 300_000n }));
      if (auth.type !== 'authorized') return assert.fail('not authorized');
      const settled = await tg.guard.settle({ callId: auth.callId, status: 'upstream_failed' });
      assert.deepEqual([settled.outcome, settled.chargedMicros, settled.remainingMicros], ['voided', 0n, 1_000_000n]);
    });

    test('authorize and settle are idempotent under retries', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { totalCap: '1.00' });
      const request = callRequest(token, { priceMicros: 100_000n });
      const first = await tg.guard.authorize(request);
      assert.equal((await tg.guard.authorize(request)).type, 'in_flight');
      if (first.type !== 'authorized') return assert.fail('not authorized');
      const settles = await Promise.all([1, 2, 3].map(() => tg.guard.settle({ callId: first.callId, status: 'ok' })));
      assert.equal(settles.filter((s) => !s.replay).length, 1);
      assert.ok(settles.every((s) => s.chargedMicros === 100_000n));
      const replay = await tg.guard.authorize(request);
      assert.equal(replay.type, 'replayed');
      await refused(tg.guard.authorize({ ...request, fingerprint: 'another request' }), 'idempotency_conflict');
      assert.equal((await tg.wallets.balance(buyer.userId)).availableMicros, 100_000_000n - 100_000n);
    });

    test('fifty concurrent requests with one key: one call holds once, the rest are in flight or conflicts', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { totalCap: '5.00' });
      const request = callRequest(token, { priceMicros: 100_000n, idempotencyKey: 'twin-key' });
      // Same key: half send the same request, half a different price (another fingerprint).
      const requests = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? request : { ...request, priceMicros: 200_000n, fingerprint: `other ${i}` }));
      const attempts = await Promise.allSettled(requests.map((r) => tg.guard.authorize(r)));
      const answers = attempts.map((a) => (a.status === 'fulfilled' ? a.value.type : (a.reason as TollgateError).code));
      const winner = answers.indexOf('authorized');
      assert.ok(winner >= 0 && answers.lastIndexOf('authorized') === winner, `exactly one owns the call: ${answers.join(', ')}`);
      assert.ok(answers.every((a) => a === 'authorized' || a === 'in_flight' || a === 'idempotency_conflict'), answers.join(', '));
      const won = (attempts[winner] as PromiseFulfilledResult<{ type: 'authorized'; callId: string; holdMicros: bigint }>).value;
      assert.equal((await tg.wallets.balance(buyer.userId)).heldMicros, won.holdMicros, 'one hold, of the winner\'s price');
      await tg.guard.settle({ callId: won.callId, status: 'ok' });
      assert.equal((await tg.wallets.balance(buyer.userId)).heldMicros, 0n, 'nothing a loser placed is still held');
      assert.equal((await tg.guard.authorize(requests[winner]!)).type, 'replayed');
      await refused(tg.guard.authorize({ ...request, fingerprint: 'yet another' }), 'idempotency_conflict');
    });

    test('a refusal is sticky for its idempotency key', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { perCallCap: '0.01' });
      const request = callRequest(token, { priceMicros: 20_000n });
      await refused(tg.guard.authorize(request), 'budget_exceeded');
      const again = await refused(tg.guard.authorize(request), 'budget_exceeded');
      assert.equal(again.data.replayed, true);
    });

    test('a token that is malformed, unknown, expired or not yet valid is refused', async () => {
      const buyer = await seedBuyer(tg);
      await refused(tg.guard.authorize(callRequest('nonsense')), 'token_invalid');
      await refused(tg.guard.authorize(callRequest('tg_live_' + 'a'.repeat(40))), 'token_invalid');
      const expired = await grantFor(tg, buyer, { expiresAt: new Date(clock.getTime() - 1000).toISOString(), notBefore: new Date(clock.getTime() - 5000).toISOString() });
      await refused(tg.guard.authorize(callRequest(expired)), 'token_expired');
      const later = await grantFor(tg, buyer, { notBefore: new Date(clock.getTime() + 60_000).toISOString() });
      await refused(tg.guard.authorize(callRequest(later)), 'token_invalid');
    });

    test('a token only works for its own services and tools', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { services: ['weather*'], tools: ['GET /forecast'] });
      const error = await refused(tg.guard.authorize(callRequest(token)), 'policy_denied');
      assert.equal(error.data.rule, 'grant:services');
      const tool = await refused(tg.guard.authorize(callRequest(token, { service: testService({ slug: 'weather-eu' }) })), 'policy_denied');
      assert.equal(tool.data.rule, 'grant:tools');
    });
  });
}
