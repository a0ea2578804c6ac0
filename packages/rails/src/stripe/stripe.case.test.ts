import { describe, test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { TollgateError, type UsageEvent } from '@tollgate/core';
import { testDatabases, type TestDb } from '@tollgate/core/testing';
import { LocalStripe, openStripe, StripeCustomers, StripeMeterSink, StripeMeterStreamSink, StripeUnavailable } from './index.ts';

const SECRET = 'sk_test_local_123';
const EVENT_NAME = 'tollgate_spend';
const at = new Date(Date.now() - 60_000);
const usage = (over: Partial<UsageEvent> = {}): UsageEvent => ({
  id: `call_${Math.random().toString(16).slice(2, 18)}`, at, edge: 'http', principalId: 'usr_ada', orgId: 'org_acme', grantId: 'grant_1',
  service: 'search', tool: 'GET /search', status: 'ok', latencyMs: 5, units: 3n, chargeMicros: 10_000n, ...over,
});

for (const engine of testDatabases) {
  describe(`Stripe meter sink on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb;
    let customers: StripeCustomers;
    let stripe: LocalStripe;
    before(async () => {
      db = await engine.open();
      customers = new StripeCustomers(db);
      await customers.set('user', 'usr_ada', 'cus_ada');
      await customers.set('org', 'org_acme', 'cus_acme');
    });
    after(async () => {
      await db.close();
    });
    beforeEach(async () => {
      stripe = new LocalStripe({ secretKey: SECRET, eventName: EVENT_NAME, customers: ['cus_ada', 'cus_acme', 'cus_bob'] });
      await stripe.start();
    });
    afterEach(async () => {
      await stripe.close();
    });

    const sinkFor = (options: { value?: 'charge_micros' | 'units' | 'calls'; key?: string; timeoutMs?: number } = {}) => new StripeMeterSink({
      stripe: openStripe({ secretKey: options.key ?? SECRET, apiBase: stripe.url, timeoutMs: options.timeoutMs ?? 5_000 }),
      customers, eventName: EVENT_NAME, ...(options.value ? { value: options.value } : {}),
    });

    test('each capture becomes one meter event: identifier = capture id, the customer of the user or else the org, the charge as value', async () => {
      const sink = sinkFor();
      const mine = usage({ chargeMicros: 12_345n });
      const colleague = usage({ principalId: 'usr_eve', chargeMicros: 7n });
      const stranger = usage({ principalId: 'usr_zed', orgId: 'org_other' });
      const free = usage({ chargeMicros: 0n });
      assert.deepEqual(await sink.writeBatch([mine, colleague, stranger, free]), []);
      assert.deepEqual(stripe.refused, [], 'auth, form encoding, event name and fields were all right');
      assert.deepEqual(stripe.events, [
        { identifier: mine.id, eventName: EVENT_NAME, customerId: 'cus_ada', value: '12345', timestamp: Math.floor(at.getTime() / 1000) },
        { identifier: colleague.id, eventName: EVENT_NAME, customerId: 'cus_acme', value: '7', timestamp: Math.floor(at.getTime() / 1000) },
      ]);
      assert.equal(sink.sent, 2);
      assert.equal(sink.skipped, 2, 'no customer, and nothing to bill');
    });

    test('an event older than Stripe accepts is set aside without a request', async () => {
      const old = usage({ at: new Date(Date.now() - 36 * 24 * 3600 * 1000) });
      const rejected = await sinkFor().writeBatch([old]);
      assert.deepEqual(rejected.map((r) => r.id), [old.id]);
      assert.equal(stripe.requests, 0);
    });

    test('the value can be the units or one per call', async () => {
      await sinkFor({ value: 'units' }).writeBatch([usage({ units: 42n })]);
      await sinkFor({ value: 'calls' }).writeBatch([usage()]);
      assert.deepEqual(stripe.events.map((e) => e.value), ['42', '1']);
    });

    test('a 500 fails the batch for a retry; the retry counts nothing twice', async () => {
      const sink = sinkFor();
      const batch = Array.from({ length: 6 }, () => usage());
      stripe.failNext({ status: 500 });
      await assert.rejects(sink.writeBatch(batch), StripeUnavailable);
      await sink.writeBatch(batch);
      assert.deepEqual(stripe.events.map((e) => e.identifier).sort(), batch.map((e) => e.id).sort());
    });

    test('429 passes Retry-After on to the retry loop', async () => {
      stripe.failNext({ status: 429, retryAfterSeconds: 7 });
      const error = await sinkFor().writeBatch([usage()]).catch((e: unknown) => e);
      assert.ok(error instanceof StripeUnavailable);
      assert.equal(error.retryAfterMs, 7_000);
    });

    test('an answer lost to a timeout after Stripe counted the event: the retry is refused as a duplicate and counted as delivered, once', async () => {
      const sink = sinkFor({ timeoutMs: 200 });
      const event = usage();
      stripe.failNext({ delayMs: 600, processed: true });
      await assert.rejects(sink.writeBatch([event]), StripeUnavailable);
      await sink.writeBatch([event]);
      assert.equal(stripe.events.length, 1);
      assert.equal(stripe.duplicates, 1);
    });

    test('Stripe refuses a repeated identifier with a 400, which the sink reads as delivered, never as a refusal', async () => {
      const event = usage();
      await sinkFor().writeBatch([event]);
      const direct = await openStripe({ secretKey: SECRET, apiBase: stripe.url }).billing.meterEvents.create({ event_name: EVENT_NAME, payload: { stripe_customer_id: 'cus_ada', value: '1' }, identifier: event.id! }).catch((e: { statusCode?: number; message?: string }) => `${e.statusCode} ${e.message}`);
      assert.equal(direct, `400 An event already exists with identifier ${event.id}.`);
      assert.deepEqual(await sinkFor().writeBatch([event]), []);
      assert.equal(stripe.events.length, 1);
      assert.equal(stripe.duplicates, 2);
    });

    test('an event Stripe refuses for good is set aside; the rest of the batch goes through', async () => {
      await customers.set('user', 'usr_gone', 'cus_deleted');
      const good = usage();
      const bad = usage({ principalId: 'usr_gone' });
      const rejected = await sinkFor().writeBatch([good, bad]);
      assert.equal(rejected.length, 1);
      assert.equal(rejected[0]!.id, bad.id);
      assert.match(rejected[0]!.reason, /No such customer/);
      assert.deepEqual(stripe.events.map((e) => e.identifier), [good.id]);
    });

    test('a wrong secret key or Stripe down is a failure to retry, never a refusal that would drop usage', async () => {
      await assert.rejects(sinkFor({ key: 'sk_test_wrong' }).writeBatch([usage()]), StripeUnavailable);
      stripe.down = true;
      await assert.rejects(sinkFor().writeBatch([usage()]), StripeUnavailable);
      assert.equal(stripe.events.length, 0);
    });

    const streamSink = () => new StripeMeterStreamSink({
      stripe: openStripe({ secretKey: SECRET, apiBase: stripe.url }),
      sessionClient: (token) => openStripe({ secretKey: token, apiBase: stripe.url }),
      customers, eventName: EVENT_NAME,
    });

    test('v2 stream: 100 events per request under one session token; a resent batch is counted once', async () => {
      const sink = streamSink();
      const batch = Array.from({ length: 250 }, (_, i) => usage({ chargeMicros: BigInt(i + 1) }));
      assert.deepEqual(await sink.writeBatch(batch), []);
      assert.equal(stripe.sessionsOpened, 1);
      assert.equal(stripe.requests, 1 + 3, 'one session, three stream requests');
      assert.deepEqual(stripe.refused, []);
      assert.deepEqual(stripe.events.map((e) => [e.identifier, e.customerId, e.value]), batch.map((e) => [e.id, 'cus_ada', String(e.chargeMicros)]));
      assert.equal(stripe.events[0]!.timestamp, Math.floor(at.getTime() / 1000));
      await sink.writeBatch(batch);
      assert.equal(stripe.events.length, 250);
      assert.equal(stripe.duplicates, 250);
    });

    test('v2 stream: an expired session is replaced and the request sent again', async () => {
      const sink = streamSink();
      await sink.writeBatch([usage()]);
      stripe.expireSessions();
      await sink.writeBatch([usage()]);
      assert.equal(stripe.sessionsOpened, 2);
      assert.equal(stripe.events.length, 2);
    });

    test('v2 stream: a 500 or 429 fails the batch for a retry (Retry-After passed on), and the retry counts nothing twice', async () => {
      const sink = streamSink();
      const batch = Array.from({ length: 150 }, () => usage());
      await sink.writeBatch([usage()]);
      stripe.failNext({ status: 500 });
      await assert.rejects(sink.writeBatch(batch), StripeUnavailable);
      stripe.failNext({ status: 429, retryAfterSeconds: 3 });
      const limited = await sink.writeBatch(batch).catch((e: unknown) => e);
      assert.ok(limited instanceof StripeUnavailable && limited.retryAfterMs === 3_000);
      await sink.writeBatch(batch);
      assert.equal(stripe.events.length, 151);
    });

    test('v2 stream: Stripe validates later, so an event it cannot bill is accepted by the request and reported asynchronously', async () => {
      await customers.set('user', 'usr_ghost', 'cus_ghost');
      const ghost = usage({ principalId: 'usr_ghost' });
      assert.deepEqual(await streamSink().writeBatch([ghost, usage()]), []);
      assert.equal(stripe.events.length, 1);
      assert.deepEqual(stripe.asyncErrors.map((e) => e.identifier), [ghost.id]);
    });

    test('customer mappings: validated, replaced, removed', async () => {
      await assert.rejects(customers.set('user', 'usr_x', 'acct_123'), (e: unknown) => e instanceof TollgateError && e.code === 'invalid_request');
      await customers.set('user', 'usr_x', 'cus_one');
      await customers.set('user', 'usr_x', 'cus_two');
      assert.equal((await customers.get('user', 'usr_x'))?.customerId, 'cus_two');
      assert.deepEqual(await customers.resolve([{ userId: 'usr_x', orgId: 'org_acme' }, { userId: 'usr_y', orgId: 'org_acme' }, { userId: null, orgId: null }]), ['cus_two', 'cus_acme', undefined]);
      assert.equal(await customers.remove('user', 'usr_x'), true);
      assert.equal(await customers.remove('user', 'usr_x'), false);
      assert.deepEqual(await customers.resolve([{ userId: 'usr_x', orgId: 'org_acme' }]), ['cus_acme']);
    });
  });
}
