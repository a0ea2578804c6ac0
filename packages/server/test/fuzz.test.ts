/**
 * 10,000 fuzzed admin and proxy requests through `app.request()` (no sockets): none may answer 5xx,
 * and every refusal must be valid problem+json naming its problem with a known code.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Hono } from 'hono';
import { ERROR_STATUS, openTollgate, type Tollgate } from '@tollgate/core';
import { pgliteTestDatabase, type TestDb } from '@tollgate/core/testing';
import { createApp, createLogger, type TollgateApp } from '../src/index.ts';

const RUNS = Number(process.env.TOLLGATE_FUZZ_RUNS ?? 10_000);

describe('fuzzed admin and proxy requests', () => {
  let db: TestDb;
  let tg: Tollgate;
  let built: TollgateApp;
  let adminKey: string;
  let grantToken: string;
  let ids: string[];

  before(async () => {
    db = await pgliteTestDatabase.open();
    tg = await openTollgate({ db });
    const upstream = new Hono();
    upstream.all('/ok/*', (c) => c.json({ ok: true }));
    upstream.all('/fail', (c) => c.json({ error: true }, 500));
    upstream.all('*', (c) => c.json({ nope: true }, 404));
    built = createApp({
      tg,
      config: { allowLoopbackUpstreams: true, sweepIntervalSeconds: 0, logLevel: 'silent', lockoutFailuresMax: 200 },
      logger: createLogger({ level: 'silent' }),
      fetch: async (input, init) => upstream.fetch(new Request(input as string, init as RequestInit)),
    });
    adminKey = (await built.apiKeys.create({ name: 'fuzz', role: 'admin' })).secret;
    const org = await tg.principals.createOrg({ name: 'Fuzz' });
    const user = await tg.principals.createUser({ orgId: org.id, name: 'F' });
    await tg.wallets.topUp({ ownerId: user.id, amount: '1000000.00', reference: 'fuzz' });
    grantToken = (await tg.grants.create({ userId: user.id, totalCap: '500000.00', services: ['*'] })).token;
    await built.services.create({ slug: 'svc', baseUrl: 'http://127.0.0.1:9', sellerId: 'sel_f', prices: [{ method: 'GET', path: '/ok/**', type: 'fixed', price: '0.01' }, { type: 'per_unit', unitPrice: '0.001', maxUnits: 10, units: { from: 'json', path: 'usage.n' } }] });
    ids = [org.id, user.id, 'svc', 'call_0', 'apr_x', 'grant_x', 'key_x'];
  });
  after(async () => {
    await tg?.close();
    await db?.close();
  });

  test(`${RUNS} requests: no 5xx, every refusal is problem+json`, { timeout: 170_000 }, async (t) => {
    const segment = fc.oneof(fc.constantFrom(...ids, 'export', 'explain', 'approve', 'deny', 'wait', 'revoke', 'panic', 'quote', 'transfers', 'settings', 'users', 'earnings', '%', '%zz', '..', '', ' '), fc.webSegment(), fc.string({ maxLength: 12 }).map(encodeURIComponent));
    const adminPath = fc.tuple(fc.constantFrom('orgs', 'projects', 'users', 'agents', 'wallets', 'wallets/top-ups', 'services', 'grants', 'grant', 'approvals', 'calls', 'analytics/services', 'analytics/spend', 'sellers', 'ledger/accounts', 'api-keys', 'me', 'nothing'), fc.array(segment, { maxLength: 3 }))
      .map(([base, rest]) => `/v1/${base}${rest.length ? `/${rest.join('/')}` : ''}`);
    const proxyPath = fc.tuple(fc.constantFrom('svc', 'nope', 'SVC', '%41', ''), fc.array(segment, { maxLength: 3 })).map(([s, rest]) => `/proxy/${s}/${rest.join('/')}`);
    const proxyOk = fc.array(fc.webSegment(), { maxLength: 2 }).map((rest) => `/proxy/svc/ok/${rest.join('/')}`);
    const path = fc.oneof({ weight: 5, arbitrary: adminPath }, { weight: 2, arbitrary: proxyPath }, { weight: 2, arbitrary: proxyOk }, { weight: 1, arbitrary: fc.constantFrom('/healthz', '/openapi.json', '/docs', '/metrics', '/', '/x') });
    const query = fc.dictionary(fc.constantFrom('limit', 'before', 'state', 'userId', 'orgId', 'format', 'from', 'to', 'timeoutMs', 'by', 'ids', 'method', 'path', 'status', 'q'), fc.oneof(fc.string({ maxLength: 20 }), fc.integer().map(String), fc.constantFrom('csv', 'jsonl', 'task', 'pending', '2026-01-01T00:00:00Z', '0', '-1', '1e9')), { maxKeys: 3 });
    const money = fc.oneof(fc.constantFrom('1.00', '0', '0.000001', '-1', '1e3', '999999999999.999999', 'abc', ''), fc.double().map(String));
    const bodyObject = fc.record({
      name: fc.oneof(fc.string({ maxLength: 30 }), fc.integer()),
      orgId: fc.constantFrom(...ids),
      userId: fc.constantFrom(...ids),
      ownerId: fc.constantFrom(...ids),
      amount: money, totalCap: money, reference: fc.string({ maxLength: 10 }),
      services: fc.oneof(fc.constant(['*']), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 })),
      slug: fc.oneof(fc.constantFrom('svc', 'new-svc'), fc.string({ maxLength: 10 })),
      baseUrl: fc.oneof(fc.constantFrom('http://127.0.0.1:1', 'http://169.254.169.254', 'ftp://x', 'https://example.com'), fc.webUrl()),
      sellerId: fc.string({ maxLength: 8 }),
      prices: fc.oneof(fc.constant([{ type: 'fixed', price: '0.01' }]), fc.array(fc.jsonValue(), { maxLength: 2 })),
      role: fc.constantFrom('admin', 'buyer', 'seller', 'root'),
      trustLevel: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.string()),
    }, { requiredKeys: [] });
    const body = fc.oneof(fc.constant(undefined), bodyObject.map((b) => JSON.stringify(b)), fc.json(), fc.string({ maxLength: 50 }));
    const auth = fc.oneof({ weight: 4, arbitrary: fc.constant('admin') }, { weight: 3, arbitrary: fc.constant('grant') }, { weight: 2, arbitrary: fc.constantFrom('none', 'garbage', 'bearer-only', 'bad-checksum', 'seller-shaped') });
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
      path, query, body, auth,
      idempotencyKey: fc.option(fc.oneof(fc.uuid(), fc.string({ maxLength: 30 }), fc.constant('x'.repeat(300))), { nil: undefined }),
      extra: fc.dictionary(fc.constantFrom('x-tollgate-task', 'x-tollgate-agent', 'x-tollgate-reason', 'x-tollgate-approval', 'content-type', 'content-length', 'connection', 'x-api-key'), fc.string({ maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')), { maxKeys: 3 }),
    });

    const tokens = () => ({
      admin: `Bearer ${adminKey}`,
      grant: `Bearer ${grantToken}`,
      none: undefined,
      garbage: 'Basic Zm9vOmJhcg==',
      'bearer-only': 'Bearer',
      'bad-checksum': `Bearer ${grantToken.slice(0, -1)}${grantToken.endsWith('a') ? 'b' : 'a'}`,
      'seller-shaped': 'Bearer tg_sk_live_000000000000000000000000000000000000',
    });

    let count = 0;
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        count++;
        const headers = new Headers();
        const authorization = tokens()[r.auth as keyof ReturnType<typeof tokens>];
        if (authorization) headers.set('authorization', authorization);
        if (r.idempotencyKey !== undefined) headers.set('idempotency-key', r.idempotencyKey.replace(/[^\x20-\x7e]/g, ''));
        for (const [k, v] of Object.entries(r.extra)) {
          if (k === 'content-length') continue;
          try {
            headers.set(k, v);
          } catch {
            // Not a valid header value for fetch; skip it.
          }
        }
        const search = new URLSearchParams(r.query).toString();
        const url = `http://gateway.test${r.path}${search ? `?${search}` : ''}`;
        const withBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
        if (withBody && !headers.has('content-type')) headers.set('content-type', 'application/json');
        const response = await built.app.request(url, { method: r.method, headers, ...(withBody ? { body: r.body } : {}) });
        const text = await response.text();
        const label = `${response.status}${response.status >= 400 ? ` ${(/"code":"([a-z_]+)"/.exec(text) ?? [])[1] ?? ''}` : ''}`;
        seen.set(label, (seen.get(label) ?? 0) + 1);
        assert.ok(response.status < 500, `${r.method} ${url} → ${response.status}: ${text.slice(0, 300)}`);
        if (response.status >= 400) {
          const passthrough = response.headers.has('x-tollgate-call-id') && !(response.headers.get('content-type') ?? '').includes('problem+json');
          if (passthrough) return;
          assert.match(response.headers.get('content-type') ?? '', /application\/problem\+json/, `${r.method} ${url} → ${response.status} is not problem+json`);
          if (r.method === 'HEAD') return;
          const problem = JSON.parse(text) as Record<string, unknown>;
          assert.equal(problem.status, response.status);
          assert.equal(typeof problem.title, 'string');
          assert.equal(typeof problem.detail, 'string');
          assert.ok(typeof problem.code === 'string' && problem.code in ERROR_STATUS, `unknown code ${String(problem.code)}`);
          assert.equal(ERROR_STATUS[problem.code as keyof typeof ERROR_STATUS], response.status);
          assert.equal(problem.type, `https://tollgate.dev/problems/${String(problem.code).replaceAll('_', '-')}`);
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.TOLLGATE_FUZZ_SEED ?? 4242) },
    );
    assert.equal(count >= RUNS, true);
    t.diagnostic(`answers: ${JSON.stringify(Object.fromEntries([...seen].sort((a, b) => b[1] - a[1])))}`);
  });
});
