import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertTollgateHealthy, testDatabases } from '@tollgate/core/testing';
import { LocalStripe } from '@tollgate/rails/stripe';
import { openRedis, redisReady } from '../redis.ts';
import { eventually, startGateway, type Gateway } from '../../test/integration/harness.ts';
import { redisTestUrl, testKeyPrefix } from '../../test/support/redis.ts';

const SECRET = 'sk_test_tollgate_local';
const EVENT_NAME = 'tollgate_spend';

async function paidCalls(gw: Gateway, token: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${gw.url}/proxy/up/fixed`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200, 'a paid call never waits for, or fails because of, usage export');
    await res.arrayBuffer();
    ids.push(res.headers.get('x-tollgate-call-id')!);
  }
  return ids;
}

for (const engine of testDatabases) {
  describe(`usage export from tollgate's config on ${engine.kind}`, { skip: engine.skip }, () => {
    for (const api of ['v1', 'v2'] as const) test(`Stripe ${api} down, failing and rate limiting: every capture reaches Stripe once, with its call id as identifier`, async () => {
      const stripe = new LocalStripe({ secretKey: SECRET, eventName: EVENT_NAME, customers: ['cus_acme'] });
      await stripe.start();
      const stream = redisTestUrl() ? `${testKeyPrefix()}:usage` : undefined;
      const gw = await startGateway(engine, {
        stripeSecretKey: SECRET, stripeMeterEventName: EVENT_NAME, stripeMeterApi: api, stripeApiBase: stripe.url, usageExportIntervalMs: 100,
        ...(stream ? { redisUrl: redisTestUrl()!, usageRedisStream: stream } : {}),
      });
      const stop = gw.built.metering.start();
      try {
        const buyer = await gw.buyer();
        const key = await gw.adminKey();
        const mapped = await fetch(`${gw.url}/v1/stripe/customers/org/${buyer.orgId}`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ customerId: 'cus_acme' }) });
        assert.equal(mapped.status, 200);
        const token = await gw.grant(buyer);

        stripe.down = true;
        const first = await paidCalls(gw, token, 4);
        await eventually(() => assert.ok(stripe.requests >= 3, 'the exporter keeps retrying while Stripe is down'), 15_000);
        assert.equal(stripe.events.length, 0);
        const exports = async () => ((await (await fetch(`${gw.url}/v1/usage/exports`, { headers: { 'x-api-key': key } })).json()) as { outbox: number; items: { sink: string; pending: number; failures: number; rejected: number; lastError: string | null }[] }).items.find((i) => i.sink === `stripe:${EVENT_NAME}`);
        // Each export round fills the outbox first; the last capture may be a round behind.
        await eventually(async () => assert.equal((await exports())?.pending, 4, 'the captures wait in the outbox'), 10_000);
        const backlog = await exports();
        assert.ok((backlog?.failures ?? 0) >= 1 && /stripe unavailable/.test(backlog?.lastError ?? ''), JSON.stringify(backlog));
        const failing = async () => Number((await (await fetch(`${gw.url}/metrics`)).text()).match(/^tollgate_usage_export_failing_attempts\{sink="stripe:tollgate_spend"\} (\d+)$/m)?.[1] ?? -1);
        assert.ok((await failing()) >= 1, 'the metric shows the sink failing');
        stripe.failNext({ status: 500 }, { status: 429, retryAfterSeconds: 1 });
        stripe.down = false;
        const second = await paidCalls(gw, token, 3);

        const all = [...first, ...second];
        await eventually(() => assert.equal(stripe.events.length, all.length), 40_000);
        assert.deepEqual(stripe.events.map((e) => e.identifier).sort(), [...all].sort(), 'each capture once, identifier = call id');
        assert.deepEqual(stripe.refused, []);
        assert.equal(stripe.totals().get('cus_acme'), BigInt(all.length) * 10_000n, 'values are the captured micro-units');
        await eventually(async () => {
          const caughtUp = await exports();
          assert.deepEqual(caughtUp && [caughtUp.pending, caughtUp.failures, caughtUp.rejected], [0, 0, 0], 'caught up, no failures left, nothing set aside');
        });
        await eventually(async () => assert.equal(await failing(), 0, 'and healthy again'));
        assert.match(await (await fetch(`${gw.url}/metrics`)).text(), /^tollgate_usage_sink_dropped\{sink="usage_events"\} 0$/m);

        if (stream) {
          const redis = openRedis(redisTestUrl()!);
          assert.ok(await redisReady(redis));
          await eventually(async () => assert.equal(await redis.xlen(stream), all.length));
          const ids = (await redis.xrange(stream, '-', '+')).map(([, f]) => f[f.indexOf('id') + 1]);
          assert.deepEqual([...ids].sort(), [...all].sort(), 'the Redis stream has each capture once too');
          await redis.del(stream);
          await redis.quit();
        }
        await assertTollgateHealthy(gw.tg);
      } finally {
        await stop();
        await gw.built.metering.close();
        await gw.close();
        await stripe.close();
      }
    });

    test('Stripe customers through the admin API: validated, read back, removed', async () => {
      const gw = await startGateway(engine, {});
      try {
        const buyer = await gw.buyer();
        const key = await gw.adminKey();
        const at = (path: string, method = 'GET', body?: unknown) => fetch(`${gw.url}/v1/stripe/customers/${path}`, { method, headers: { 'x-api-key': key, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
        const bad = await at(`user/${buyer.userId}`, 'POST', { customerId: 'acct_1' });
        assert.equal(bad.status, 400);
        assert.equal(((await bad.json()) as { field: string }).field, 'customerId');
        assert.equal((await at('user/usr_missing', 'POST', { customerId: 'cus_1' })).status, 404);
        assert.equal((await at(`team/${buyer.userId}`, 'POST', { customerId: 'cus_1' })).status, 400);
        assert.equal((await at(`user/${buyer.userId}`, 'POST', { customerId: 'cus_ada' })).status, 200);
        assert.equal(((await (await at(`user/${buyer.userId}`)).json()) as { customerId: string }).customerId, 'cus_ada');
        assert.equal((await at(`user/${buyer.userId}`, 'DELETE')).status, 204);
        assert.equal((await at(`user/${buyer.userId}`)).status, 404);
        const anonymous = await fetch(`${gw.url}/v1/stripe/customers/user/${buyer.userId}`);
        assert.equal(anonymous.status, 401);
      } finally {
        await gw.built.metering.close();
        await gw.close();
      }
    });
  });
}
