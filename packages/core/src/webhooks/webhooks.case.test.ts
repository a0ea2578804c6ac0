import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testDatabases } from '../testing/index.ts';
import { Approvals } from '../approvals/index.ts';
import { Webhooks, startWebhookDispatcher, verifyWebhookSignature } from './index.ts';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  signatureOk: boolean;
}

/** A receiver on 127.0.0.1 that checks every signature and answers 500 to the first `failFirst` requests. */
async function receiver(options: { secret: () => string; nowSeconds: () => number; failFirst?: number; hangMs?: number }) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const check = verifyWebhookSignature(options.secret(), req.headers['tollgate-signature'] as string, body, 300, { nowSeconds: options.nowSeconds() });
      received.push({ headers: req.headers, body, signatureOk: check.ok });
      const respond = () => {
        if (!check.ok) return res.writeHead(400).end('bad signature');
        res.writeHead(received.length <= (options.failFirst ?? 0) ? 500 : 204).end();
      };
      if (options.hangMs) setTimeout(respond, options.hangMs);
      else respond();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tollgate`;
  return { url, received, close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

function clock() {
  let ms = Date.now();
  return { now: () => new Date(ms), seconds: () => Math.floor(ms / 1000), advance: (by: number) => { ms += by; } };
}

const asking = (callId: string) => ({
  callId, orgId: 'org_1', userId: 'usr_1', grantId: 'grant_1', taskId: 'task_1', service: 'search', tool: 'web.search',
  priceMicros: 2_500_000n, trigger: 'trigger:price_above_threshold', explanation: 'Above the threshold',
});

for (const engine of testDatabases) {
  describe(`webhooks on ${engine.kind}`, { skip: engine.skip }, () => {
    const closers: (() => Promise<void>)[] = [];
    after(async () => { for (const c of closers) await c(); });

    async function setup(options: { failFirst?: number; hangMs?: number; attemptsMax?: number; requestTimeoutMs?: number } = {}) {
      const db = await engine.open();
      closers.push(() => db.close());
      const time = clock();
      let secret = '';
      const server = await receiver({ secret: () => secret, nowSeconds: time.seconds, ...options });
      closers.push(server.close);
      const webhooks = new Webhooks(db, { now: time.now, backoffBaseMs: 1_000, attemptsMax: options.attemptsMax ?? 8, requestTimeoutMs: options.requestTimeoutMs ?? 5_000 });
      const created = await webhooks.createEndpoint({ orgId: 'org_1', url: server.url, events: ['approval.*'] });
      secret = created.secret;
      const approvals = new Approvals(db, { now: time.now, webhooks });
      return { db, time, server, webhooks, approvals, endpoint: created.endpoint };
    }

    test('signed delivery, retried with exponential backoff until the receiver accepts', async () => {
      const { time, server, webhooks, approvals, endpoint } = await setup({ failFirst: 3 });
      await approvals.create(asking('call_a'));
      assert.deepEqual(await webhooks.deliverDue(), { attempted: 1, delivered: 0, retried: 1, failed: 0 });
      assert.equal((await webhooks.deliverDue()).attempted, 0, 'not due before its backoff');
      const waits: number[] = [];
      for (let attempt = 2; attempt <= 4; attempt += 1) {
        const [d] = await webhooks.listDeliveries({ endpointId: endpoint.id });
        const waitMs = d!.nextAttemptAt.getTime() - time.now().getTime();
        waits.push(waitMs);
        time.advance(waitMs - 1);
        assert.equal((await webhooks.deliverDue()).attempted, 0);
        time.advance(1);
        assert.equal((await webhooks.deliverDue()).attempted, 1);
      }
      assert.deepEqual(waits, [1_000, 2_000, 4_000]);
      const [delivery] = await webhooks.listDeliveries({ endpointId: endpoint.id });
      assert.equal(delivery!.state, 'delivered');
      assert.equal(delivery!.attempts, 4);
      assert.equal(server.received.length, 4);
      assert.ok(server.received.every((r) => r.signatureOk));
      const eventIds = new Set(server.received.map((r) => r.headers['tollgate-event-id']));
      assert.equal(eventIds.size, 1, 'every retry carries the same event id');
      const body = JSON.parse(server.received[0]!.body);
      assert.equal(body.type, 'approval.created');
      assert.equal(body.id, [...eventIds][0]);
      assert.equal(body.data.approval.call_id, 'call_a');
    });

    test('attempts are bounded: after the last one the delivery is failed with the error', async () => {
      const { time, webhooks, approvals, endpoint } = await setup({ failFirst: 100, attemptsMax: 3 });
      await approvals.create(asking('call_b'));
      for (let i = 0; i < 3; i += 1) {
        await webhooks.deliverDue();
        time.advance(60_000);
      }
      const [d] = await webhooks.listDeliveries({ endpointId: endpoint.id });
      assert.equal(d!.state, 'failed');
      assert.equal(d!.attempts, 3);
      assert.equal(d!.lastStatus, 500);
      assert.equal(d!.lastError, 'HTTP 500');
      assert.equal((await webhooks.deliverDue()).attempted, 0);
    });

    test('a receiver that hangs is cut off by the timeout and retried', async () => {
      const { webhooks, approvals, endpoint } = await setup({ hangMs: 2_000, requestTimeoutMs: 150 });
      await approvals.create(asking('call_c'));
      const report = await webhooks.deliverDue();
      assert.equal(report.retried, 1);
      const [d] = await webhooks.listDeliveries({ endpointId: endpoint.id });
      assert.match(d!.lastError ?? '', /Timeout|abort/i);
    });

    test('a receiver with another secret refuses; only subscribed endpoints get events', async () => {
      const { db, webhooks, approvals, server } = await setup();
      const other = await webhooks.createEndpoint({ orgId: 'org_1', url: server.url, events: ['call.*'] });
      await webhooks.createEndpoint({ orgId: 'org_2', url: server.url, events: ['*'] });
      const a = await approvals.create(asking('call_d'));
      assert.deepEqual(await webhooks.listDeliveries({ endpointId: other.endpoint.id }), []);
      await db.query(`UPDATE webhook_endpoints SET secret = 'whsec_rotated_without_telling_0000' WHERE org_id = 'org_1'`);
      await webhooks.deliverDue();
      assert.equal(server.received.length, 1);
      assert.equal(server.received[0]!.signatureOk, false);
      await approvals.decide(a.id, { decision: 'approve', decidedBy: 'usr_admin' });
      assert.equal((await webhooks.listDeliveries({ state: 'pending' })).length, 2);
    });

    test('the dispatcher sends deliveries in the background until stopped', async () => {
      const { server, webhooks, approvals } = await setup();
      const stop = startWebhookDispatcher({ webhooks, intervalMs: 20 });
      try {
        const a = await approvals.create(asking('call_e'));
        await approvals.decide(a.id, { decision: 'deny', decidedBy: 'usr_admin' });
        const until = Date.now() + 5_000;
        while (server.received.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      } finally {
        await stop();
      }
      assert.deepEqual(server.received.map((r) => JSON.parse(r.body).type).sort(), ['approval.created', 'approval.decided']);
      assert.ok(server.received.every((r) => r.signatureOk));
    });

    test('endpoint input is checked', async () => {
      const { webhooks } = await setup();
      await assert.rejects(webhooks.createEndpoint({ orgId: 'org_1', url: 'ftp://x', events: ['*'] }), /url/);
      await assert.rejects(webhooks.createEndpoint({ orgId: 'org_1', url: 'https://a:b@x.test', events: ['*'] }), /url/);
      await assert.rejects(webhooks.createEndpoint({ orgId: 'org_1', url: 'https://x.test', events: [] }), /events/);
      await assert.rejects(webhooks.createEndpoint({ orgId: 'org_1', url: 'https://x.test', events: ['Bad Event'] }), /events/);
    });
  });
}
