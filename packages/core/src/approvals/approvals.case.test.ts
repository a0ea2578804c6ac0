import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testDatabases, type TestDb } from '../testing/index.ts';
import { TollgateError } from '../errors.ts';
import { Webhooks } from '../webhooks/index.ts';
import { Approvals, type CreateApprovalInput } from './index.ts';

function asking(overrides: Partial<CreateApprovalInput> = {}): CreateApprovalInput {
  return {
    callId: `call_${randomUUID()}`, orgId: 'org_1', userId: 'usr_1', grantId: 'grant_1', taskId: 'task_1', agentId: 'agt_1',
    service: 'search', tool: 'web.search', priceMicros: 2_500_000n, reason: 'compare vendors',
    trigger: 'trigger:price_above_threshold', ruleId: 'price-over-2', explanation: 'The price 2.50 is above the 2.00 threshold',
    ...overrides,
  };
}

/** A clock tests move by hand. */
function clock(start = Date.parse('2026-11-01T12:00:00Z')) {
  let ms = start;
  return { now: () => new Date(ms), advance: (by: number) => { ms += by; } };
}

const facts = (a: { callId: string }, extra: Partial<{ grantId: string; taskId: string | null; service: string; priceMicros: bigint; callId: string }> = {}) => ({
  callId: a.callId, grantId: 'grant_1', taskId: 'task_1', service: 'search', tool: 'web.search', priceMicros: 2_500_000n, ...extra,
});

for (const engine of testDatabases) {
  describe(`approvals on ${engine.kind}`, { skip: engine.skip }, () => {
    async function withStore(fn: (s: { db: TestDb; approvals: Approvals; webhooks: Webhooks; time: ReturnType<typeof clock> }) => Promise<void>) {
      const db = await engine.open();
      const time = clock();
      const webhooks = new Webhooks(db, { now: time.now });
      try {
        await fn({ db, time, webhooks, approvals: new Approvals(db, { now: time.now, webhooks }) });
      } finally {
        await db.close();
      }
    }

    test('lifecycle: create is idempotent by call, approve once, consume once, webhooks enqueued', () => withStore(async ({ approvals, webhooks }) => {
      const { endpoint } = await webhooks.createEndpoint({ orgId: 'org_1', url: 'http://127.0.0.1:9/hook', events: ['approval.*'] });
      const input = asking();
      const first = await approvals.create(input);
      assert.match(first.id, /^apr_/);
      assert.equal(first.state, 'pending');
      const again = await approvals.create(input);
      assert.equal(again.id, first.id);
      assert.deepEqual((await approvals.consume(first.id, facts(input))).type, 'not_covered');
      assert.equal(((await approvals.consume(first.id, facts(input))) as { why: string }).why, 'pending');

      const decided = await approvals.decide(first.id, { decision: 'approve', decidedBy: 'usr_admin', note: 'ok once' });
      assert.equal(decided.type, 'decided');
      assert.equal(decided.approval.state, 'approved');
      assert.equal(decided.approval.decidedBy, 'usr_admin');
      const twice = await approvals.decide(first.id, { decision: 'deny', decidedBy: 'usr_other' });
      assert.equal(twice.type, 'already_decided');
      assert.equal(twice.approval.state, 'approved');

      assert.equal(((await approvals.consume(first.id, facts(input, { callId: 'call_other' }))) as { why: string }).why, 'other_call');
      assert.equal(((await approvals.consume(first.id, facts(input, { grantId: 'grant_2' }))) as { why: string }).why, 'other_grant');
      const used = await approvals.consume(first.id, facts(input));
      assert.equal(used.type, 'covered');
      assert.equal(((await approvals.consume(first.id, facts(input))) as { why: string }).why, 'used');

      const deliveries = await webhooks.listDeliveries({ endpointId: endpoint.id });
      assert.deepEqual(deliveries.map((d) => d.eventType).sort(), ['approval.created', 'approval.decided']);
      const created = deliveries.find((d) => d.eventType === 'approval.created')!;
      assert.equal((created.payload.data.approval as Record<string, unknown>).price, '2.50');
      await assert.rejects(approvals.decide('apr_missing', { decision: 'approve', decidedBy: 'x' }), (e: unknown) => e instanceof TollgateError && e.code === 'not_found');
    }));

    test('deny, then list by state and user with a cursor', () => withStore(async ({ approvals, time }) => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        ids.push((await approvals.create(asking({ userId: i % 2 ? 'usr_2' : 'usr_1' }))).id);
        time.advance(1000);
      }
      const denied = await approvals.decide(ids[0]!, { decision: 'deny', decidedBy: 'usr_admin', note: 'too pricey' });
      assert.equal(denied.approval.state, 'denied');
      assert.equal(((await approvals.consume(ids[0]!, facts(denied.approval))) as { why: string }).why, 'denied');
      const page1 = await approvals.list({ orgId: 'org_1', limit: 2 });
      assert.deepEqual(page1.items.map((a) => a.id), [ids[4], ids[3]]);
      const page2 = await approvals.list({ orgId: 'org_1', limit: 2, before: page1.next! });
      assert.deepEqual(page2.items.map((a) => a.id), [ids[2], ids[1]]);
      const page3 = await approvals.list({ orgId: 'org_1', limit: 2, before: page2.next! });
      assert.deepEqual(page3.items.map((a) => a.id), [ids[0]]);
      assert.equal(page3.next, undefined);
      assert.deepEqual((await approvals.list({ userId: 'usr_2' })).items.map((a) => a.id), [ids[3], ids[1]]);
      assert.deepEqual((await approvals.list({ state: 'denied' })).items.map((a) => a.id), [ids[0]]);
    }));

    test('expiry: deciding after the deadline is refused, expireDue sweeps, a retry asks afresh', () => withStore(async ({ approvals, time }) => {
      const input = asking({ ttlMs: 60_000 });
      const a = await approvals.create(input);
      const b = await approvals.create(asking({ ttlMs: 120_000 }));
      time.advance(61_000);
      const late = await approvals.decide(a.id, { decision: 'approve', decidedBy: 'usr_admin' });
      assert.equal(late.type, 'expired');
      assert.equal(late.approval.state, 'expired');
      assert.equal(((await approvals.consume(b.id, facts(b))) as { why: string }).why, 'pending');
      time.advance(60_000);
      assert.equal(((await approvals.consume(b.id, facts(b))) as { why: string }).why, 'expired');
      const swept = await approvals.expireDue();
      assert.deepEqual(swept.map((x) => x.id), [b.id]);
      assert.deepEqual(await approvals.expireDue(), []);
      const fresh = await approvals.create(input);
      assert.notEqual(fresh.id, a.id);
      assert.equal(fresh.state, 'pending');
    }));

    test('an approved approval stops covering when its validity ends', () => withStore(async ({ approvals, time }) => {
      const a = await approvals.create(asking());
      await approvals.decide(a.id, { decision: 'approve', decidedBy: 'usr_admin', validForMs: 10_000 });
      time.advance(10_001);
      assert.equal(((await approvals.consume(a.id, facts(a))) as { why: string }).why, 'expired');
    }));

    test('task scope covers every call of that service in that task; raise_cap returns the amount once', () => withStore(async ({ approvals }) => {
      const a = await approvals.create(asking());
      await approvals.decide(a.id, { decision: 'approve', decidedBy: 'usr_admin', scope: 'task' });
      for (let i = 0; i < 3; i += 1) assert.equal((await approvals.consume(a.id, facts(a, { callId: `call_${i}`, priceMicros: 9_000_000n }))).type, 'covered');
      assert.equal(((await approvals.consume(a.id, facts(a, { taskId: 'task_2' }))) as { why: string }).why, 'other_task');
      assert.equal(((await approvals.consume(a.id, facts(a, { service: 'maps' }))) as { why: string }).why, 'other_service');

      const r = await approvals.create(asking({ scope: 'raise_cap', raiseMicros: 5_000_000n, trigger: 'trigger:grant_cap_would_be_exceeded' }));
      const decided = await approvals.decide(r.id, { decision: 'approve', decidedBy: 'usr_admin', raiseMicros: 3_000_000n });
      assert.equal(decided.approval.raiseMicros, 3_000_000n);
      const used = await approvals.consume(r.id, facts(r, { callId: 'call_later' }));
      assert.deepEqual(used.type === 'covered' && [used.scope, used.raiseMicros], ['raise_cap', 3_000_000n]);
      assert.equal(((await approvals.consume(r.id, facts(r))) as { why: string }).why, 'used');
    }));

    test('concurrent consume of a call approval: exactly one is covered', () => withStore(async ({ approvals }) => {
      const a = await approvals.create(asking());
      await approvals.decide(a.id, { decision: 'approve', decidedBy: 'usr_admin' });
      const results = await Promise.all(Array.from({ length: 20 }, () => approvals.consume(a.id, facts(a))));
      assert.equal(results.filter((r) => r.type === 'covered').length, 1);
      assert.ok(results.every((r) => r.type === 'covered' || r.why === 'used'));
    }));

    test('concurrent decisions: exactly one wins', () => withStore(async ({ approvals }) => {
      const a = await approvals.create(asking());
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => approvals.decide(a.id, { decision: i % 2 ? 'deny' : 'approve', decidedBy: `usr_${i}` })));
      assert.equal(results.filter((r) => r.type === 'decided').length, 1);
    }));

    test('wait resolves as soon as a decision is made, and returns the pending approval at timeout', () => withStore(async ({ approvals }) => {
      const a = await approvals.create(asking());
      const started = Date.now();
      const pending = await approvals.wait(a.id, { timeoutMs: 300 });
      assert.equal(pending.state, 'pending');
      assert.ok(Date.now() - started >= 290, 'waited the full timeout');

      const waiting = approvals.wait(a.id, { timeoutMs: 10_000 });
      setTimeout(() => void approvals.decide(a.id, { decision: 'approve', decidedBy: 'usr_admin' }), 50);
      const t0 = Date.now();
      const decided = await waiting;
      assert.equal(decided.state, 'approved');
      assert.ok(Date.now() - t0 < 2_000, 'woke on the decision, not the timeout');
    }));

    test('wait sees a decision made by another store on the same database (polling)', () => withStore(async ({ db, approvals, time }) => {
      const other = new Approvals(db, { now: time.now });
      const a = await approvals.create(asking());
      const waiting = approvals.wait(a.id, { timeoutMs: 5_000 });
      setTimeout(() => void other.decide(a.id, { decision: 'deny', decidedBy: 'usr_admin' }), 100);
      const t0 = Date.now();
      assert.equal((await waiting).state, 'denied');
      assert.ok(Date.now() - t0 < 2_000);
    }));

    test('bad input names the field', () => withStore(async ({ approvals }) => {
      await assert.rejects(approvals.create(asking({ scope: 'raise_cap' })), /raiseMicros/);
      await assert.rejects(approvals.create(asking({ priceMicros: -1n })), /priceMicros/);
      const a = await approvals.create(asking({ taskId: null }));
      await assert.rejects(approvals.decide(a.id, { decision: 'approve', decidedBy: 'usr_admin', scope: 'task' }), /scope/);
    }));
  });
}
