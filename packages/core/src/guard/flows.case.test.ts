import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases, type TestDb } from '../testing/databases.ts';
import { callRequest, grantFor, seedBuyer, testService } from '../testing/fixtures.ts';
import { assertTollgateHealthy } from '../testing/invariants.ts';
import { openTollgate, type Tollgate } from '../tollgate.ts';
import { TollgateError } from '../errors.ts';
import type { Authorization, CallRequest } from './types.ts';

async function outcome(promise: Promise<Authorization>): Promise<string> {
  try {
    return (await promise).type;
  } catch (error) {
    if (error instanceof TollgateError) return error.code;
    throw error;
  }
}

async function approvalOf(promise: Promise<unknown>): Promise<TollgateError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TollgateError && error.code === 'approval_required', String(error));
    return error;
  }
  assert.fail('expected approval_required');
}

for (const engine of testDatabases) {
  describe(`budget guard flows on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb;
    let tg: Tollgate;
    before(async () => {
      db = await engine.open();
      tg = await openTollgate({ db });
    });
    after(async () => {
      await assertTollgateHealthy(tg);
      await tg.close();
      await db.close();
    });

    /** Runs a call to the end: authorize, then settle ok. */
    async function pay(request: CallRequest): Promise<void> {
      const auth = await tg.guard.authorize(request);
      assert.equal(auth.type, 'authorized');
      if (auth.type === 'authorized') await tg.guard.settle({ callId: auth.callId, status: 'ok' });
    }

    test('price above a threshold parks the call; approving once lets that call through, once', async () => {
      const buyer = await seedBuyer(tg);
      await tg.policies.setOrgPolicy(buyer.orgId, { triggers: { priceAbove: { enabled: true, threshold: '0.50' } } });
      const token = await grantFor(tg, buyer);
      await pay(callRequest(token, { priceMicros: 100_000n }));
      const request = callRequest(token, { priceMicros: 900_000n, reason: 'deep research report' });
      const parked = await approvalOf(tg.guard.authorize(request));
      const approvalId = String(parked.data.approvalId);
      assert.match(String(parked.data.decideUrl), /apr_/);
      const approval = await tg.approvals.get(approvalId);
      assert.equal(approval.trigger, 'trigger:price_above');
      assert.equal(approval.reason, 'deep research report');
      const stillPending = await approvalOf(tg.guard.authorize({ ...request, approvalId }));
      assert.equal(stillPending.data.approvalId, approvalId);
      await tg.approvals.decide(approvalId, { decision: 'approve', decidedBy: 'ada@example.com' });
      await pay({ ...request, approvalId });
      // The approval was for that call once: another expensive call asks again.
      await approvalOf(tg.guard.authorize(callRequest(token, { priceMicros: 900_000n, approvalId })));
      const record = await tg.audit.get(approval.callId);
      assert.equal(record?.outcome, 'captured');
      assert.equal(record?.approvalId, approvalId);
    });

    test('retrying a parked call without its approval id answers with the same approval and asks no one again', async () => {
      const buyer = await seedBuyer(tg);
      await tg.policies.setOrgPolicy(buyer.orgId, { triggers: { priceAbove: { enabled: true, threshold: '0.50' } } });
      const token = await grantFor(tg, buyer);
      const request = callRequest(token, { priceMicros: 900_000n });
      const first = await approvalOf(tg.guard.authorize(request));
      const retries = await Promise.all([1, 2, 3].map(() => approvalOf(tg.guard.authorize(request))));
      for (const retry of retries) {
        assert.equal(retry.data.approvalId, first.data.approvalId);
        assert.equal(retry.data.replayed, true);
      }
      // A month later the approval has lapsed unanswered; the retry still gets the call's answer, and no new approval is opened.
      const later = await openTollgate({ db, now: () => new Date(Date.now() + 30 * 86_400_000) });
      try {
        const lapsed = await approvalOf(later.guard.authorize(request));
        assert.equal(lapsed.data.approvalId, first.data.approvalId);
      } finally {
        await later.close();
      }
      const asked = await tg.approvals.list({ userId: buyer.userId });
      assert.equal(asked.items.length, 1, 'one approval for one call');
      assert.equal((await tg.wallets.balance(buyer.userId)).heldMicros, 0n);
    });

    test('retries of a running, a finished and a refused call place nothing new, even after the price or the policy changed', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer);
      const running = callRequest(token, { priceMicros: 100_000n });
      const auth = await tg.guard.authorize(running);
      assert.equal(auth.type, 'authorized');
      // The same key at another price is the same call: in flight, and it holds nothing more.
      assert.equal((await tg.guard.authorize(running)).type, 'in_flight');
      assert.equal((await tg.guard.authorize({ ...running, priceMicros: 300_000n })).type, 'in_flight');
      assert.equal((await tg.wallets.balance(buyer.userId)).heldMicros, 100_000n);
      if (auth.type === 'authorized') await tg.guard.settle({ callId: auth.callId, status: 'ok' });
      const replay = await tg.guard.authorize(running);
      assert.ok(replay.type === 'replayed' && replay.chargedMicros === 100_000n);
      assert.equal((await tg.wallets.balance(buyer.userId)).heldMicros, 0n);
      const denied = callRequest(token, { priceMicros: 100_000n, service: testService({ category: 'email' }) });
      await tg.policies.setOrgPolicy(buyer.orgId, { rules: [{ id: 'no-email', level: 'org', effect: 'deny', match: { categories: ['email'] } }] });
      assert.equal(await outcome(tg.guard.authorize(denied)), 'policy_denied');
      await tg.policies.setOrgPolicy(buyer.orgId, { rules: [] });
      // Allowed now, but this key was refused: the refusal stands and nothing is held or charged.
      assert.equal(await outcome(tg.guard.authorize(denied)), 'policy_denied');
      const balance = await tg.wallets.balance(buyer.userId);
      assert.deepEqual([balance.heldMicros, balance.availableMicros], [0n, 100_000_000n - 100_000n]);
    });

    test('a denied approval refuses the retry with approval_denied', async () => {
      const buyer = await seedBuyer(tg);
      await tg.policies.setOrgPolicy(buyer.orgId, { triggers: { priceAbove: { enabled: true, threshold: '0.50' } } });
      const token = await grantFor(tg, buyer);
      const request = callRequest(token, { priceMicros: 900_000n });
      const approvalId = String((await approvalOf(tg.guard.authorize(request))).data.approvalId);
      await tg.approvals.decide(approvalId, { decision: 'deny', decidedBy: 'ada' });
      assert.equal(await outcome(tg.guard.authorize({ ...request, approvalId })), 'approval_denied');
    });

    test('first paid call in a task, first use of a service and a sensitive category each ask, and can be off', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer);
      assert.equal(await outcome(tg.guard.authorize(callRequest(token, { taskId: 't1' }))), 'authorized');
      await tg.policies.setOrgPolicy(buyer.orgId, { triggers: { firstPaidCallInTask: { enabled: true } } });
      assert.equal(await outcome(tg.guard.authorize(callRequest(token, { taskId: 't2' }))), 'approval_required');
      await tg.policies.setOrgPolicy(buyer.orgId, { triggers: { firstUseOfService: { enabled: true } } });
      assert.equal(await outcome(tg.guard.authorize(callRequest(token, { service: testService({ id: 'svc_new', slug: 'new' }) }))), 'approval_required');
      await tg.policies.setOrgPolicy(buyer.orgId, { triggers: { sensitiveCategory: { enabled: true, categories: ['email'] } } });
      assert.equal(await outcome(tg.guard.authorize(callRequest(token, { service: testService({ category: 'email' }) }))), 'approval_required');
      assert.equal(await outcome(tg.guard.authorize(callRequest(token, { service: testService({ category: 'search' }) }))), 'authorized');
      await tg.policies.setOrgPolicy(buyer.orgId, { triggers: { sensitiveCategory: { enabled: false, categories: ['email'] } } });
      assert.equal(await outcome(tg.guard.authorize(callRequest(token, { service: testService({ category: 'email' }) }))), 'authorized');
    });

    test('enterprise exception: a vendor off the approved list asks', async () => {
      const buyer = await seedBuyer(tg);
      await tg.policies.setOrgPolicy(buyer.orgId, { triggers: { enterpriseExceptions: [{ enabled: true, name: 'approved-vendors', approved: { vendors: ['sel_demo'] } }] } });
      const token = await grantFor(tg, buyer);
      assert.equal(await outcome(tg.guard.authorize(callRequest(token))), 'authorized');
      assert.equal(await outcome(tg.guard.authorize(callRequest(token, { service: testService({ sellerId: 'sel_unknown' }) }))), 'approval_required');
    });

    test('grant cap exceeded while the user limit has room asks to raise the cap; approving raises it', async () => {
      const buyer = await seedBuyer(tg, { userMonthly: '5.00' });
      await tg.policies.setOrgPolicy(buyer.orgId, { triggers: { grantCapExceeded: { enabled: true } } });
      const { token, grant } = await tg.grants.create({ userId: buyer.userId, totalCap: '0.10', services: ['*'] });
      const request = callRequest(token, { priceMicros: 150_000n });
      const parked = await approvalOf(tg.guard.authorize(request));
      const approval = await tg.approvals.get(String(parked.data.approvalId));
      assert.equal(approval.scope, 'raise_cap');
      assert.equal(approval.raiseMicros, 50_000n);
      await tg.approvals.decide(approval.id, { decision: 'approve', decidedBy: 'ada' });
      await pay({ ...request, approvalId: approval.id });
      const view = await tg.grants.get(grant.id);
      assert.equal(view.spentMicros, 150_000n);
      assert.equal(view.remainingMicros, 0n);
    });

    test('policy rules deny with the rule and a reason in the audit trace', async () => {
      const buyer = await seedBuyer(tg);
      await tg.policies.setOrgPolicy(buyer.orgId, { rules: [{ id: 'no-email', level: 'org', effect: 'deny', match: { categories: ['email'] }, description: 'Agents may not send email' }] });
      const token = await grantFor(tg, buyer);
      const request = callRequest(token, { service: testService({ category: 'email' }) });
      assert.equal(await outcome(tg.guard.authorize(request)), 'policy_denied');
      const records = await tg.audit.query({ grantId: (await tg.grants.authenticate(token)).id });
      assert.equal(records.records[0]?.outcome, 'refused');
      assert.equal(records.records[0]?.ruleId, 'no-email');
      assert.ok(records.records[0]!.policyTrace.length > 0);
    });

    test('a policy dry run over recorded calls reports which decisions would change', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer);
      for (const category of ['email', 'search', 'email']) await pay(callRequest(token, { service: testService({ category, id: `svc_${category}`, slug: category }) }));
      await db.query(`INSERT INTO services (id, slug, kind, name, seller_id, category, sensitivity) VALUES ('svc_email', 'email', 'http', 'Email', 'sel_demo', 'email', 'high') ON CONFLICT DO NOTHING`);
      const report = await tg.dryRunPolicy(buyer.orgId, { rules: [{ id: 'no-email', level: 'org', effect: 'deny', match: { categories: ['email'] } }] }, 10);
      assert.equal(report.total, 3);
      assert.equal(report.changed, 2);
      assert.deepEqual(report.transitions, { 'allow->deny': 2 });
      const triggers = await tg.dryRunPolicy(buyer.orgId, { triggers: { firstUseOfService: { enabled: true } } }, 10);
      assert.equal(triggers.changed, 2, 'the first call to each of the two services would have asked');
    });

    test('grant re-approval conditions ask again', async () => {
      const buyer = await seedBuyer(tg);
      const token = await grantFor(tg, buyer, { reapproval: { tools: ['POST /send*'] } });
      assert.equal(await outcome(tg.guard.authorize(callRequest(token, { tool: 'POST /send-email' }))), 'approval_required');
      assert.equal(await outcome(tg.guard.authorize(callRequest(token, { tool: 'GET /search' }))), 'authorized');
    });

    test('delegation: a child fits inside its parent, and its spend counts against the parent', async () => {
      const buyer = await seedBuyer(tg);
      const { token: parent, grant } = await tg.grants.create({ userId: buyer.userId, totalCap: '0.05', perCallCap: '0.02', services: ['search', 'weather*'] });
      await assert.rejects(tg.grants.delegate(parent, { totalCap: '0.06' }), /totalCap/);
      await assert.rejects(tg.grants.delegate(parent, { totalCap: '0.01', perCallCap: '0.03' }), /perCallCap/);
      await assert.rejects(tg.grants.delegate(parent, { totalCap: '0.01', services: ['mail'] }), /services/);
      const { token: child } = await tg.grants.delegate(parent, { totalCap: '0.04', services: ['search'] });
      for (let i = 0; i < 3; i++) await pay(callRequest(child));
      await pay(callRequest(parent));
      assert.equal((await tg.grants.get(grant.id)).remainingMicros, 10_000n);
      const blocked = await outcome(tg.guard.authorize(callRequest(child, { priceMicros: 20_000n })));
      assert.equal(blocked, 'budget_exceeded');
      assert.equal(await outcome(tg.guard.authorize(callRequest(child, { service: testService({ slug: 'weather' }) }))), 'policy_denied');
    });

    test('revoking a parent revokes its descendants; holds already placed still settle', async () => {
      const buyer = await seedBuyer(tg);
      const { token: parent, grant } = await tg.grants.create({ userId: buyer.userId, totalCap: '1.00', services: ['*'] });
      const { token: child } = await tg.grants.delegate(parent, { totalCap: '0.50' });
      const inFlight = await Promise.all([1, 2, 3].map(() => tg.guard.authorize(callRequest(child))));
      await tg.grants.revoke(grant.id);
      assert.equal(await outcome(tg.guard.authorize(callRequest(parent))), 'grant_revoked');
      assert.equal(await outcome(tg.guard.authorize(callRequest(child))), 'grant_revoked');
      for (const auth of inFlight) {
        if (auth.type !== 'authorized') assert.fail('expected authorized');
        assert.equal((await tg.guard.settle({ callId: auth.callId, status: 'ok' })).outcome, 'captured');
      }
      assert.equal((await tg.grants.get(grant.id)).status, 'revoked');
    });

    test('revocation racing 100 in-flight authorizations: after it commits, nothing new is held', async () => {
      const buyer = await seedBuyer(tg);
      const { token, grant } = await tg.grants.create({ userId: buyer.userId, totalCap: '5.00', services: ['*'] });
      const racing = Array.from({ length: 100 }, () => outcome(tg.guard.authorize(callRequest(token))));
      await tg.grants.revoke(grant.id);
      const results = await Promise.all(racing);
      assert.ok(results.every((r) => r === 'authorized' || r === 'grant_revoked'), results.join(','));
      assert.equal(await outcome(tg.guard.authorize(callRequest(token))), 'grant_revoked');
      const view = await tg.grants.get(grant.id);
      assert.equal(view.heldMicros, BigInt(results.filter((r) => r === 'authorized').length) * 10_000n);
    });

    test('panic revokes every grant of a user at once', async () => {
      const buyer = await seedBuyer(tg);
      const tokens = await Promise.all([1, 2, 3].map(() => grantFor(tg, buyer)));
      const other = await seedBuyer(tg);
      const otherToken = await grantFor(tg, other);
      const { revoked } = await tg.grants.panic(buyer.userId);
      assert.equal(revoked.length, 3);
      for (const token of tokens) assert.equal(await outcome(tg.guard.authorize(callRequest(token))), 'grant_revoked');
      assert.equal(await outcome(tg.guard.authorize(callRequest(otherToken))), 'authorized');
    });

    test('many grants of one user racing for the monthly limit never overspend it', async () => {
      const buyer = await seedBuyer(tg, { userMonthly: '0.50' });
      const tokens = await Promise.all(Array.from({ length: 20 }, () => grantFor(tg, buyer, { totalCap: '1.00' })));
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => outcome(tg.guard.authorize(callRequest(tokens[i % 20]!)))));
      assert.equal(results.filter((r) => r === 'authorized').length, 50);
      assert.equal(results.filter((r) => r === 'budget_exceeded').length, 150);
    });
  });
}
