import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '@tollgate/core/testing';
import { startGateway, type Gateway } from './harness.ts';

for (const engine of testDatabases) {
  describe(`admin API on ${engine.kind}`, { skip: engine.skip }, () => {
    let gw: Gateway;
    let admin: string;
    const api = async (path: string, init: RequestInit & { key?: string; json?: unknown } = {}) => {
      const headers = new Headers(init.headers);
      if (init.key !== '') headers.set('authorization', `Bearer ${init.key ?? admin}`);
      if (init.json !== undefined) headers.set('content-type', 'application/json');
      const response = await fetch(`${gw.url}${path}`, { ...init, headers, ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}) });
      const type = response.headers.get('content-type') ?? '';
      const body = /application\/(problem\+)?json(;|$)/.test(type) ? await response.json() : await response.text();
      return { status: response.status, body: body as any, headers: response.headers };
    };

    before(async () => {
      gw = await startGateway(engine, { lockoutFailuresMax: 3, lockoutDurationMs: 60_000 });
      admin = await gw.adminKey();
    });
    after(async () => {
      await gw?.close();
    });

    test('the whole buyer flow through the API: org, user, agent, top-up, grant, paid call, calls, explain, export, analytics, panic', async () => {
      const org = await api('/v1/orgs', { method: 'POST', json: { name: 'Globex' } });
      assert.equal(org.status, 201, JSON.stringify(org.body));
      const user = await api('/v1/users', { method: 'POST', json: { orgId: org.body.id, name: 'Hank' } });
      assert.equal(user.status, 201);
      const agent = await api('/v1/agents', { method: 'POST', json: { userId: user.body.id, name: 'bot', trustLevel: 1 } });
      assert.equal(agent.status, 201);
      const topUp = await api('/v1/wallets/top-ups', { method: 'POST', json: { ownerId: user.body.id, amount: '5.00', reference: 'wire-1' } });
      assert.equal(topUp.status, 201);
      assert.equal(topUp.body.balance.availableMicros, '5000000');
      const grant = await api('/v1/grants', { method: 'POST', json: { userId: user.body.id, agentId: agent.body.id, totalCap: '1.00', services: ['up'] } });
      assert.equal(grant.status, 201, JSON.stringify(grant.body));
      assert.match(grant.body.token, /^tg_live_/);
      const paid = await fetch(`${gw.url}/proxy/up/fixed`, { headers: { authorization: `Bearer ${grant.body.token}`, 'x-tollgate-task': 'report-42' } });
      assert.equal(paid.status, 200);
      await paid.arrayBuffer();
      const callId = paid.headers.get('x-tollgate-call-id')!;
      const calls = await api(`/v1/calls?userId=${user.body.id}`);
      assert.equal(calls.status, 200);
      assert.equal(calls.body.records[0].callId, callId);
      const one = await api(`/v1/calls/${callId}`);
      assert.equal(one.body.record.outcome, 'captured');
      const explain = await api(`/v1/calls/${callId}/explain`);
      assert.equal(explain.status, 200);
      assert.match(explain.body, /0\.01/);
      const csv = await api(`/v1/calls/export?format=csv&userId=${user.body.id}`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
      assert.ok(csv.body.includes(callId));
      const jsonl = await api(`/v1/calls/export?format=jsonl&userId=${user.body.id}`);
      assert.ok(jsonl.body.includes(callId));
      const services = await api(`/v1/analytics/services?orgId=${org.body.id}`);
      assert.equal(services.body.items[0].service, 'up');
      assert.equal(services.body.items[0].revenueMicros, '10000');
      const spend = await api(`/v1/analytics/spend?by=task&orgId=${org.body.id}`);
      assert.deepEqual(spend.body.items[0], { key: 'report-42', calls: 1, spentMicros: '10000' });
      const earnings = await api('/v1/sellers/sel_test/earnings');
      assert.equal(earnings.status, 200);
      assert.ok(BigInt(earnings.body.earnedMicros) >= 10_000n);
      const balance = await api(`/v1/wallets/${user.body.id}`);
      assert.equal(balance.body.availableMicros, '4990000');
      const listed = await api(`/v1/grants?userId=${user.body.id}`);
      assert.equal(listed.body.items[0].spentMicros, '10000');
      const panic = await api(`/v1/users/${user.body.id}/panic`, { method: 'POST' });
      assert.deepEqual(panic.body.revoked, [grant.body.grant.id]);
      const after = await fetch(`${gw.url}/proxy/up/fixed`, { headers: { authorization: `Bearer ${grant.body.token}` } });
      assert.equal(after.status, 403);
    });

    test('validation names the field; unknown routes are problem+json 404', async () => {
      const bad = await api('/v1/grants', { method: 'POST', json: { userId: 'usr_x', totalCap: '1.0000001', services: ['*'] } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'invalid_request');
      assert.equal(bad.body.field, 'totalCap');
      const notJson = await api('/v1/orgs', { method: 'POST', body: '{nope', headers: { 'content-type': 'application/json' } });
      assert.equal(notJson.body.field, 'body');
      const missing = await api('/v1/nothing-here');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'not_found');
    });

    test('services: SSRF refusals; credentials accepted but never returned', async () => {
      const strict = await startGateway(engine, { allowLoopbackUpstreams: false }, { defaultService: false });
      try {
        const key = await strict.adminKey();
        for (const baseUrl of ['http://127.0.0.1:8080', 'http://[::1]:80', 'http://169.254.169.254/latest', 'http://10.0.0.1', 'http://[::ffff:127.0.0.1]/', 'http://localhost:1234', 'http://0.0.0.0/']) {
          const response = await fetch(`${strict.url}/v1/services`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ slug: 'evil', baseUrl, sellerId: 's', prices: [{ type: 'fixed', price: '0.01' }] }),
          });
          const body = (await response.json()) as Record<string, unknown>;
          assert.equal(response.status, 400, baseUrl);
          assert.equal(body.field, 'baseUrl', baseUrl);
          assert.equal(body.reason, 'upstream_address_refused', baseUrl);
        }
      } finally {
        await strict.close();
      }
      const created = await api('/v1/services', { method: 'POST', json: { slug: 'paid-api', baseUrl: gw.upstream.url, sellerId: 'sel_x', credentials: { headers: { Authorization: 'Bearer sk-live-very-secret-value' } }, prices: [{ method: 'GET', path: '/v1/**', type: 'fixed', price: '0.02' }] } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.credentialHeaders, ['Authorization']);
      assert.ok(!JSON.stringify(created.body).includes('sk-live-very-secret-value'));
      const quote = await api('/v1/services/paid-api/quote?method=GET&path=/v1/things');
      assert.equal(quote.body.holdMicros, '20000');
      const updated = await api('/v1/services/paid-api', { method: 'PATCH', json: { category: 'data' } });
      assert.equal(updated.body.category, 'data');
      assert.ok(!JSON.stringify(updated.body).includes('sk-live-very-secret-value'));
    });

    test('API keys: roles are enforced, revoked keys stop working', async () => {
      const buyerOrg = await gw.tg.principals.createOrg({ name: 'Initech' });
      const buyerKey = await api('/v1/api-keys', { method: 'POST', json: { name: 'buyer', role: 'buyer', orgId: buyerOrg.id } });
      assert.equal(buyerKey.status, 201);
      assert.match(buyerKey.body.secret, /^tg_ak_live_/);
      const sellerKey = await api('/v1/api-keys', { method: 'POST', json: { name: 'seller', role: 'seller', sellerId: 'sel_test' } });
      assert.match(sellerKey.body.secret, /^tg_sk_live_/);
      const keys = await api('/v1/api-keys');
      assert.ok(!JSON.stringify(keys.body).includes(buyerKey.body.secret), 'secrets are never listed');
      const me = await api('/v1/me', { key: buyerKey.body.secret });
      assert.equal(me.body.role, 'buyer');
      const forbidden = await api('/v1/orgs', { method: 'POST', key: buyerKey.body.secret, json: { name: 'x' } });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.code, 'forbidden');
      const otherOrg = await gw.tg.principals.createOrg({ name: 'Other' });
      const cross = await api(`/v1/orgs/${otherOrg.id}`, { key: buyerKey.body.secret });
      assert.equal(cross.status, 403);
      const own = await api(`/v1/orgs/${buyerOrg.id}`, { key: buyerKey.body.secret });
      assert.equal(own.status, 200);
      const sellerServices = await api('/v1/services', { key: sellerKey.body.secret });
      assert.ok(sellerServices.body.items.every((s: { sellerId: string }) => s.sellerId === 'sel_test'));
      const sellerGrants = await api('/v1/grants', { key: sellerKey.body.secret });
      assert.equal(sellerGrants.status, 403);
      await api(`/v1/api-keys/${buyerKey.body.key.keyId}/revoke`, { method: 'POST' });
      const revoked = await api('/v1/me', { key: buyerKey.body.secret });
      assert.equal(revoked.status, 401);
    });

    test('repeated failed authentication locks the source out, even for a valid key afterwards', async () => {
      const none = await api('/v1/me', { key: '' });
      assert.equal(none.status, 401);
      assert.equal(none.body.code, 'unauthorized');
      // A source is the address plus the first 12 characters presented: the guess must not share
      // the admin key's, or the admin is locked out too (1 run in 62 did, before this).
      const guess = `tg_ak_live_${admin[11] === 'A' ? 'B' : 'A'}${'A'.repeat(35)}`;
      const codes: string[] = [];
      for (let i = 0; i < 4; i++) codes.push((await api('/v1/me', { key: guess })).body.code);
      assert.deepEqual(codes, ['unauthorized', 'unauthorized', 'locked_out', 'locked_out']);
      const locked = await api('/v1/me', { key: guess });
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      // Another key prefix from the same address is a different source.
      assert.equal((await api('/v1/me')).status, 200);
    });

    test('OpenAPI 3.1 document and docs page', async () => {
      const doc = await api('/openapi.json', { key: '' });
      assert.equal(doc.status, 200);
      assert.equal(doc.body.openapi, '3.1.0');
      const grants = doc.body.paths['/v1/grants'].post;
      assert.ok(grants.requestBody.content['application/json'].schema.properties.totalCap);
      assert.ok(doc.body.paths['/v1/services'].post.requestBody.content['application/json'].schema.properties.prices);
      assert.ok(doc.body.paths['/proxy/{service}/{path}']);
      const page = await api('/docs', { key: '' });
      assert.match(page.body, /<h1>Tollgate API<\/h1>/);
      const preflight = await fetch(`${gw.url}/v1/me`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' } });
      assert.equal(preflight.headers.get('access-control-allow-origin'), null, 'CORS is off unless configured');
      const health = await api('/healthz', { key: '' });
      assert.equal(health.body.status, 'ok');
      const metrics = await api('/metrics', { key: '' });
      assert.match(metrics.body, /tollgate_proxy_calls_total/);
    });

    test('approvals over the API: list, approve, and the agent waits with its grant token', async () => {
      const buyer = await gw.buyer();
      const token = await gw.grant(buyer, { reapproval: { priceAbove: '0.001' } });
      const parked = await fetch(`${gw.url}/proxy/up/fixed`, { headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'wait-1' } });
      const problem = (await parked.json()) as { approvalId: string };
      const waiting = fetch(`${gw.url}/v1/approvals/${problem.approvalId}/wait?timeoutMs=5000`, { headers: { authorization: `Bearer ${token}` } });
      const listed = await api(`/v1/approvals?state=pending&userId=${buyer.userId}`);
      assert.equal(listed.body.items[0].id, problem.approvalId);
      const approved = await api(`/v1/approvals/${problem.approvalId}/approve`, { method: 'POST', json: { note: 'fine' } });
      assert.equal(approved.body.state, 'approved');
      const waited = (await (await waiting).json()) as { state: string };
      assert.equal(waited.state, 'approved');
      const stranger = await gw.grant(await gw.buyer());
      const denied = await fetch(`${gw.url}/v1/approvals/${problem.approvalId}/wait?timeoutMs=0`, { headers: { authorization: `Bearer ${stranger}` } });
      assert.equal(denied.status, 403);
      const paid = await fetch(`${gw.url}/proxy/up/fixed`, { headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'wait-1', 'x-tollgate-approval': problem.approvalId } });
      assert.equal(paid.status, 200);
    });
  });
}
