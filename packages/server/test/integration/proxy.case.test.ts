import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { testDatabases } from '@tollgate/core/testing';
import { createTollgateFetch, callInfo, TollgateClientError } from '@tollgate/client';
import { eventually, startGateway, UPSTREAM_SECRET, type Buyer, type Gateway } from './harness.ts';

async function problemOf(response: Response): Promise<Record<string, unknown>> {
  assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/);
  const body = (await response.json()) as Record<string, unknown>;
  for (const field of ['type', 'title', 'status', 'detail', 'code']) assert.ok(field in body, `problem has ${field}`);
  assert.equal(body.status, response.status);
  return body;
}

for (const engine of testDatabases) {
  describe(`paid proxy end to end on ${engine.kind}`, { skip: engine.skip }, () => {
    let gw: Gateway;
    let buyer: Buyer;
    let token: string;
    const call = (path: string, init: RequestInit & { key?: string; bearer?: string } = {}) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${init.bearer ?? token}`);
      if (init.key) headers.set('idempotency-key', init.key);
      return fetch(`${gw.url}/proxy/${path}`, { ...init, headers });
    };
    const wallet = async (b: Buyer = buyer) => (await gw.tg.wallets.balance(b.userId)).availableMicros;

    before(async () => {
      gw = await startGateway(engine, { requestBodyBytesMax: 64 * 1024, fingerprintBodyBytesMax: 16 * 1024 });
      await gw.service({ slug: 'quick', timeoutMs: 300 });
      await gw.service({ slug: 'blocked' });
      await gw.service({ slug: 'dead', baseUrl: 'http://127.0.0.1:9' });
      await gw.service({ slug: 'lenient', chargeFailedCalls: true });
      buyer = await gw.buyer();
      token = await gw.grant(buyer);
    });
    after(async () => {
      await gw?.close();
    });

    test('a paid call through the client SDK: forwarded with credentials, charged, headers, replayed once', async () => {
      const tgFetch = createTollgateFetch({ token, baseUrl: gw.url, task: 'task-1', agent: buyer.agentId });
      const before = await wallet();
      const response = await tgFetch('/proxy/up/fixed?q=1', { idempotencyKey: 'first', reason: 'testing' });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { credential: boolean; authorization: string | null };
      assert.equal(body.credential, true, 'the upstream credential is injected');
      assert.equal(body.authorization, null, "the client's grant token never reaches the upstream");
      const info = callInfo(response);
      assert.match(info.callId!, /^call_/);
      assert.equal(info.charge, '0.01');
      assert.equal(info.remaining, '9.99');
      assert.equal(await wallet(), before - 10_000n);
      const again = await tgFetch('/proxy/up/fixed?q=1', { idempotencyKey: 'first' });
      assert.equal(again.status, 200);
      assert.equal(callInfo(again).replayed, true);
      assert.equal(callInfo(again).callId, info.callId);
      assert.deepEqual(await again.json(), body, 'a small body is replayed');
      assert.equal(await wallet(), before - 10_000n, 'never charged twice');
      const seen = gw.upstream.seen.get('/fixed')!;
      assert.equal(seen.get('x-tollgate-call-id'), info.callId);
      assert.equal(seen.get('x-tollgate-task'), null);
    });

    test('refusals: token_invalid, not_found, invalid_request', async () => {
      const missing = await fetch(`${gw.url}/proxy/up/fixed`);
      assert.equal(missing.status, 401);
      assert.equal((await problemOf(missing)).code, 'token_invalid');
      assert.match(missing.headers.get('www-authenticate') ?? '', /Bearer/);
      const bad = await call('up/fixed', { bearer: 'tg_live_nope' });
      assert.equal((await problemOf(bad)).code, 'token_invalid');
      const unknown = await call('nosuch/x');
      assert.equal((await problemOf(unknown)).code, 'not_found');
      const badKey = await call('up/fixed', { headers: { 'idempotency-key': 'a'.repeat(201) } });
      const problem = await problemOf(badKey);
      assert.equal(problem.code, 'invalid_request');
      assert.equal(problem.field, 'Idempotency-Key');
    });

    test('token_expired, grant_revoked', async () => {
      const expiring = await gw.grant(buyer, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
      gw.clock.offsetMs = 120_000;
      try {
        const response = await call('up/fixed', { bearer: expiring });
        assert.equal(response.status, 401);
        assert.equal((await problemOf(response)).code, 'token_expired');
      } finally {
        gw.clock.offsetMs = 0;
      }
      const revocable = await gw.tg.grants.create({ userId: buyer.userId, totalCap: '1.00', services: ['*'] });
      await gw.tg.grants.revoke(revocable.grant.id);
      const revoked = await call('up/fixed', { bearer: revocable.token });
      assert.equal(revoked.status, 403);
      assert.equal((await problemOf(revoked)).code, 'grant_revoked');
    });

    test('budget_exceeded names the limit and what is left; insufficient_funds', async () => {
      const small = await gw.grant(buyer, { totalCap: '0.02' });
      for (let i = 0; i < 2; i++) assert.equal((await call('up/fixed', { bearer: small })).status, 200);
      const over = await call('up/fixed', { bearer: small });
      assert.equal(over.status, 402);
      const problem = await problemOf(over);
      assert.equal(problem.code, 'budget_exceeded');
      assert.equal(problem.limit, 'grant_total');
      assert.equal(problem.remaining, '0.00');
      const poor = await gw.buyer({ funds: '0.005' });
      const poorToken = await gw.grant(poor);
      const refused = await call('up/fixed', { bearer: poorToken });
      assert.equal(refused.status, 402);
      assert.equal((await problemOf(refused)).code, 'insufficient_funds');
      const tgFetch = createTollgateFetch({ token: small, baseUrl: gw.url });
      await assert.rejects(tgFetch('/proxy/up/fixed'), (e: unknown) => e instanceof TollgateClientError && e.code === 'budget_exceeded' && e.family === 'budget' && e.data.limit === 'grant_total');
    });

    test('policy_denied, rate_limited', async () => {
      await gw.tg.policies.setOrgPolicy(buyer.orgId, { rules: [{ id: 'no-blocked', level: 'org', effect: 'deny', match: { services: ['blocked'] } }] });
      const denied = await call('blocked/fixed');
      assert.equal(denied.status, 403);
      const problem = await problemOf(denied);
      assert.equal(problem.code, 'policy_denied');
      assert.equal(problem.rule, 'no-blocked');
      const limited = await gw.grant(buyer, { ratePerMinute: 1 });
      assert.equal((await call('up/fixed', { bearer: limited })).status, 200);
      const second = await call('up/fixed', { bearer: limited });
      assert.equal(second.status, 429);
      assert.equal((await problemOf(second)).code, 'rate_limited');
      assert.ok(Number(second.headers.get('retry-after')) > 0);
    });

    test('approval_required → approve → the client retries with the approval; approval_denied', async () => {
      const careful = await gw.grant(buyer, { reapproval: { priceAbove: '0.005' } });
      const parked = await call('up/fixed', { bearer: careful, key: 'needs-ok' });
      assert.equal(parked.status, 403);
      const problem = await problemOf(parked);
      assert.equal(problem.code, 'approval_required');
      assert.match(String(problem.approvalId), /^apr_/);
      assert.ok(problem.decideUrl);
      assert.ok(parked.headers.get('retry-after'));
      const tgFetch = createTollgateFetch({ token: careful, baseUrl: gw.url, waitForApproval: { timeoutMs: 10_000 } });
      let asked: string | undefined;
      const pending = tgFetch('/proxy/up/fixed', { idempotencyKey: 'sdk-waits' });
      await eventually(async () => {
        const page = await gw.tg.approvals.list({ state: 'pending', userId: buyer.userId });
        const mine = page.items.find((a) => a.grantId !== undefined && a.id !== problem.approvalId);
        assert.ok(mine);
        asked = mine.id;
      });
      await gw.tg.approvals.decide(asked!, { decision: 'approve', decidedBy: 'test' });
      const response = await pending;
      assert.equal(response.status, 200);
      assert.equal(callInfo(response).charge, '0.01');
      await gw.tg.approvals.decide(String(problem.approvalId), { decision: 'deny', decidedBy: 'test' });
      const retried = await call('up/fixed', { bearer: careful, key: 'needs-ok', headers: { 'x-tollgate-approval': String(problem.approvalId) } });
      assert.equal((await problemOf(retried)).code, 'approval_denied');
    });

    test('idempotency_conflict: same key, different request', async () => {
      assert.equal((await call('up/fixed?a=1', { key: 'conflict-key' })).status, 200);
      const other = await call('up/fixed?a=2', { key: 'conflict-key' });
      assert.equal(other.status, 409);
      assert.equal((await problemOf(other)).code, 'idempotency_conflict');
      const body1 = await call('up/fixed', { method: 'POST', key: 'body-key', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
      assert.equal(body1.status, 200);
      const body2 = await call('up/fixed', { method: 'POST', key: 'body-key', body: '{"a":2}', headers: { 'content-type': 'application/json' } });
      assert.equal((await problemOf(body2)).code, 'idempotency_conflict');
    });

    test('50 parallel requests with one Idempotency-Key → one upstream call, one charge; the rest replay or wait', async () => {
      const fresh = await gw.buyer();
      const grant = await gw.grant(fresh);
      const before = await wallet(fresh);
      const hitsBefore = gw.upstream.hits.get('/slow') ?? 0;
      const responses = await Promise.all(Array.from({ length: 50 }, () => call('up/slow?ms=200', { bearer: grant, key: 'same-50' })));
      const statuses = responses.map((r) => r.status);
      for (const r of responses) {
        if (r.status === 409) {
          const problem = await problemOf(r);
          assert.equal(problem.code, 'call_in_flight');
          assert.ok(r.headers.get('retry-after'));
        } else {
          assert.equal(r.status, 200);
          await r.arrayBuffer();
        }
      }
      assert.ok(statuses.includes(200));
      assert.equal((gw.upstream.hits.get('/slow') ?? 0) - hitsBefore, 1, 'the upstream is called once');
      assert.equal(before - (await wallet(fresh)), 10_000n, 'exactly one charge');
      const replay = await call('up/slow?ms=200', { bearer: grant, key: 'same-50' });
      assert.equal(replay.headers.get('x-tollgate-replayed'), 'true');
    });

    test('upstream 5xx, connection refused and timeout are voided and not charged', async () => {
      const before = await wallet();
      const failed = await call('up/fail');
      assert.equal(failed.status, 502);
      const p1 = await problemOf(failed);
      assert.equal(p1.code, 'upstream_failed');
      assert.equal(p1.upstreamStatus, 500);
      assert.match(failed.headers.get('x-tollgate-call-id') ?? '', /^call_/);
      assert.equal(failed.headers.get('x-tollgate-charge'), '0.00');
      const dead = await call('dead/fixed');
      assert.equal(dead.status, 502);
      assert.equal((await problemOf(dead)).code, 'upstream_failed');
      const slow = await call('quick/slow?ms=2000', { key: 'timeout-1' });
      assert.equal(slow.status, 504);
      assert.equal((await problemOf(slow)).code, 'upstream_timeout');
      assert.equal(await wallet(), before, 'nothing charged');
      const replay = await call('quick/slow?ms=2000', { key: 'timeout-1' });
      assert.equal(replay.status, 504, 'a replay of a failed call repeats the failure');
      assert.equal(replay.headers.get('x-tollgate-replayed'), 'true');
    });

    test('a 4xx answer passes through uncharged, unless the service charges failed calls', async () => {
      const before = await wallet();
      const missing = await call('up/missing');
      assert.equal(missing.status, 404);
      assert.deepEqual(await missing.json(), { error: 'nope' });
      assert.equal(missing.headers.get('x-tollgate-charge'), '0.00');
      assert.equal(await wallet(), before);
      const charged = await call('lenient/missing');
      assert.equal(charged.status, 404);
      await charged.arrayBuffer();
      assert.equal(charged.headers.get('x-tollgate-charge'), '0.01');
      assert.equal(await wallet(), before - 10_000n);
    });

    test('usage-priced: hold the maximum, capture the units (header and JSON field)', async () => {
      const before = await wallet();
      const header = await call('up/usage-header?units=3', { method: 'POST' });
      assert.equal(header.status, 200);
      await header.arrayBuffer();
      assert.equal(header.headers.get('x-tollgate-charge'), '0.003');
      const json = await call('up/usage-json', { method: 'POST', body: JSON.stringify({ units: 7 }), headers: { 'content-type': 'application/json' } });
      assert.equal(json.status, 200);
      assert.deepEqual(await json.json(), { ok: true, usage: { units: 7 } });
      assert.equal(json.headers.get('x-tollgate-charge'), '0.007');
      const over = await call('up/usage-json', { method: 'POST', body: JSON.stringify({ units: 5000 }), headers: { 'content-type': 'application/json' } });
      assert.equal(over.headers.get('x-tollgate-charge'), '0.10', 'never more than the hold');
      await over.arrayBuffer();
      assert.equal(before - (await wallet()), 3_000n + 7_000n + 100_000n);
      const record = await gw.tg.audit.get(json.headers.get('x-tollgate-call-id')!);
      assert.equal(record?.holdMicros, 100_000n);
      assert.equal(record?.capturedMicros, 7_000n);
    });

    test('server-sent events arrive chunk by chunk, and the charge lands when the stream ends', async () => {
      const before = await wallet();
      const response = await call('up/sse?n=4&gap=200');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'text/event-stream');
      const reader = response.body!.getReader();
      const arrivals: number[] = [];
      const started = Date.now();
      let text = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arrivals.push(Date.now() - started);
        text += new TextDecoder().decode(value);
      }
      assert.equal(text, 'data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n');
      assert.ok(arrivals.length >= 4, `chunks arrived separately: ${arrivals}`);
      assert.ok(arrivals[0]! < 150, `the first event is not held back (${arrivals[0]} ms)`);
      assert.equal(before - (await wallet()), 10_000n);
    });

    test('a client that disconnects mid-stream is not charged', async () => {
      const before = await wallet();
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${gw.url}/proxy/up/sse?n=20&gap=200`, { headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'abort-1' } }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
        req.once('error', reject);
        req.end();
      });
      await eventually(async () => {
        const record = (await gw.tg.audit.query({ userId: buyer.userId, outcome: 'voided' })).records.find((r) => r.status === 'cancelled');
        assert.ok(record, 'the call was voided as cancelled');
      }, 5000);
      assert.equal(await wallet(), before);
    });

    test('a client that disconnects before the upstream answers is not charged', async () => {
      const before = await wallet();
      const controller = new AbortController();
      const pending = call('up/slow?ms=600', { key: 'abort-early', signal: controller.signal });
      setTimeout(() => controller.abort(), 150);
      await assert.rejects(pending);
      await eventually(async () => {
        const records = (await gw.tg.audit.query({ userId: buyer.userId })).records;
        assert.ok(records.some((r) => r.status === 'cancelled' && r.tool === 'GET /slow'));
      }, 5000);
      assert.equal(await wallet(), before);
    });

    test('request bodies stream to the upstream; oversized bodies are refused', async () => {
      const big = new Uint8Array(40 * 1024).fill(97);
      const streamed = await call('up/upload', { method: 'POST', body: big, headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(streamed.status, 200);
      assert.deepEqual(await streamed.json(), { bytes: 40 * 1024 });
      const tooBig = await call('up/upload', { method: 'POST', body: new Uint8Array(100 * 1024) });
      assert.equal(tooBig.status, 413);
      assert.equal((await problemOf(tooBig)).code, 'payload_too_large');
    });

    test('upstream credentials never appear in responses or logs', async () => {
      const leak = await call('up/leak');
      assert.equal(leak.status, 200);
      assert.equal(leak.headers.get('x-echo'), null, 'a header carrying the credential is dropped');
      const text = JSON.stringify([...leak.headers]) + (await leak.text());
      assert.ok(!text.includes(UPSTREAM_SECRET));
      const admin = await gw.adminKey();
      for (const path of ['/v1/services', '/v1/services/up', '/openapi.json']) {
        const response = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${admin}` } });
        assert.equal(response.status, 200, path);
        assert.ok(!(await response.text()).includes(UPSTREAM_SECRET), path);
      }
      const logs = gw.logs.join('');
      assert.ok(logs.includes('call settled'), 'calls are logged');
      assert.ok(!logs.includes(UPSTREAM_SECRET), 'no credential in logs');
      assert.ok(!logs.includes(token), 'no grant token in logs');
    });
  });
}
