/**
 * The dashboard's server side over real sockets, on every database engine: the public config says
 * only whether the demo is on; the demo sign-in is refused to anything but a loopback browser;
 * stream tickets are single-use, expire and die with their key; the event stream delivers calls and
 * approvals in the viewer's scope only; the overview and seller aggregates equal a count made
 * record by record; the synthetic history verifies.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTollgate, type Tollgate } from '@tollgate/core';
import { assertTollgateHealthy, testDatabases, type TestDb } from '@tollgate/core/testing';
import { createApp, startServer, type RunningServer, type TollgateApp } from '../index.ts';
import { demoUpstreamApp } from '../demo/upstreams.ts';
import { DEMO_SERVICES, seedDemo, type DemoInfo } from '../demo/seed.ts';
import { seedCalls } from './seed-calls.ts';
import { StreamTickets } from './stream-tickets.ts';

/** A POST with any headers (Host included), over the socket. */
function rawPost(server: RunningServer, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: 'POST', headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads server-sent events from a fetch response until `until` says stop. */
async function readEvents(res: Response, until: (events: SseEvent[]) => boolean, timeoutMs = 15_000): Promise<SseEvent[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(events)) {
      if (Date.now() > deadline) throw new Error(`timed out; events so far: ${events.map((e) => e.event).join(', ')}`);
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

for (const engine of testDatabases) {
  describe(`dashboard server side on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb;
    let tg: Tollgate;
    let built: TollgateApp;
    let server: RunningServer;
    let upstream: RunningServer;
    let demo: DemoInfo;
    let dir: string;
    const url = (path: string) => `${server.url}${path}`;
    const admin = (init: RequestInit = {}) => ({ ...init, headers: { authorization: `Bearer ${demo.adminKey}`, 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
    const ticket = async (key = demo.adminKey) => {
      const res = await fetch(url('/v1/dashboard/stream-tickets'), { method: 'POST', headers: { authorization: `Bearer ${key}` } });
      assert.equal(res.status, 201);
      return ((await res.json()) as { ticket: string }).ticket;
    };
    const paidCall = async (path = '/proxy/search/search?q=x', init: RequestInit = {}) => {
      const res = await fetch(url(path), { ...init, headers: { authorization: `Bearer ${demo.token}`, 'x-tollgate-task': 'dash-test', ...(init.headers as Record<string, string> | undefined) } });
      await res.arrayBuffer();
      return res;
    };

    before(async () => {
      db = await engine.open();
      tg = await openTollgate({ db });
      dir = mkdtempSync(join(tmpdir(), 'tollgate-dash-'));
      upstream = await startServer(demoUpstreamApp({ credential: 'pending' }) as never, { host: '127.0.0.1', port: 0 });
      built = createApp({ tg, config: { allowLoopbackUpstreams: true, logLevel: 'silent' } });
      demo = await seedDemo({ tg, services: built.services, apiKeys: built.apiKeys, upstreamUrl: upstream.url, dir });
      const port = upstream.port;
      await upstream.close();
      upstream = await startServer(demoUpstreamApp({ credential: demo.upstreamCredential }) as never, { host: '127.0.0.1', port });
      server = await startServer(built.app, { host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await built?.dashboard.close();
      await server?.close();
      await upstream?.close();
      await tg?.close();
      await db?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('the public config says only whether the demo is on; the dashboard is served at / with a strict CSP', async () => {
      assert.deepEqual(await (await fetch(url('/v1/dashboard/config'))).json(), { demo: false });
      built.dashboard.demo.enable(demo.adminKey);
      assert.deepEqual(await (await fetch(url('/v1/dashboard/config'))).json(), { demo: true });
      const page = await fetch(url('/'));
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.equal(html.includes(demo.adminKey), false);
      // Built: the SPA with a same-origin CSP; not built (tests that never build it): how to build it.
      if (html.includes('/assets/')) assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      else assert.match(html, /not built/);
      const openapi = (await (await fetch(url('/openapi.json'))).json()) as { paths: Record<string, unknown> };
      for (const path of ['/v1/dashboard/events', '/v1/dashboard/overview', '/v1/dashboard/stream-tickets', '/v1/dashboard/seller', '/v1/audit/verify']) assert.ok(openapi.paths[path], path);
      assert.equal((await fetch(url('/docs'))).status, 200);
    });

    test('the demo sign-in gives the key only to a loopback browser at a loopback host, without proxy headers, from the same origin', async () => {
      built.dashboard.demo.enable(demo.adminKey);
      const ok = await rawPost(server, '/v1/dashboard/demo-session', { origin: server.url });
      assert.equal(ok.status, 200);
      assert.equal((JSON.parse(ok.body) as { apiKey: string }).apiKey, demo.adminKey);
      // A rebinding page sends its own host name; fetch() cannot forge Host, so raw HTTP is used.
      const hostile: Record<string, string>[] = [{ host: 'evil.example' }, { 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }, { origin: 'http://evil.example' }];
      for (const headers of hostile) {
        const res = await rawPost(server, '/v1/dashboard/demo-session', headers);
        assert.equal(res.status, 403, JSON.stringify(headers));
        const problem = JSON.parse(res.body) as { code: string; detail: string };
        assert.equal(problem.code, 'forbidden');
        assert.equal(JSON.stringify(problem).includes(demo.adminKey), false);
      }
      // No socket at all (an in-process request) is not provably local either.
      const inProcess = await built.app.request('/v1/dashboard/demo-session', { method: 'POST', headers: { host: '127.0.0.1' } });
      assert.equal(inProcess.status, 403);
    });

    test('stream tickets: key required, single use, expire, and die with a revoked key', async () => {
      assert.equal((await fetch(url('/v1/dashboard/stream-tickets'), { method: 'POST' })).status, 401);
      const events = (t: string) => fetch(url(`/v1/dashboard/events?ticket=${encodeURIComponent(t)}`));
      assert.equal((await fetch(url('/v1/dashboard/events'))).status, 400);
      assert.equal((await events('tkt_forged.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status, 401);
      const t = await ticket();
      const first = await events(t);
      assert.equal(first.status, 200);
      assert.match(first.headers.get('content-type') ?? '', /text\/event-stream/);
      await first.body?.cancel();
      const second = await events(t);
      assert.equal(second.status, 401);
      assert.match(((await second.json()) as { detail: string }).detail, /already used/);

      let clock = Date.now();
      const tickets = new StreamTickets(tg.db, { ttlMs: 1_000, now: () => clock });
      const principal = (await built.apiKeys.authenticate(demo.adminKey))!;
      const late = await tickets.issue(principal);
      clock += 1_001;
      await assert.rejects(tickets.redeem(late.ticket), /expired/);

      const key = await built.apiKeys.create({ name: 'to revoke', role: 'admin' });
      const orphan = await ticket(key.secret);
      await built.apiKeys.revoke(key.key.keyId);
      assert.equal((await events(orphan)).status, 401);
    });

    test('the event stream delivers calls and pending approvals in the viewer scope, and nothing of other orgs', async () => {
      const other = await tg.principals.createOrg({ name: 'Other Org' });
      const outsider = await built.apiKeys.create({ name: 'other buyer', role: 'buyer', orgId: other.id });
      const mine = await fetch(url(`/v1/dashboard/events?ticket=${await ticket()}&orgId=${demo.orgId}`));
      const theirs = await fetch(url(`/v1/dashboard/events?ticket=${await ticket(outsider.secret)}`));
      const paid = paidCall();
      const needsApproval = paidCall('/proxy/research/research', { method: 'POST', headers: { 'idempotency-key': 'dash-approval-1' } });
      const [res, parked] = await Promise.all([paid, needsApproval]);
      assert.equal(res.status, 200);
      assert.equal(parked.status, 403);
      const callId = res.headers.get('x-tollgate-call-id')!;
      const seen = await readEvents(mine, (evs) => evs.some((e) => e.event === 'call' && (e.data as { callId: string }).callId === callId)
        && evs.some((e) => e.event === 'approvals' && (e.data as { pending: unknown[] }).pending.length === 1));
      const approval = seen.filter((e) => e.event === 'approvals').at(-1)!.data as { pending: { service: string; priceMicros: string; orgId: string }[] };
      assert.equal(approval.pending[0]!.service, 'research');
      assert.equal(approval.pending[0]!.priceMicros, '2500000');
      assert.equal((approval.pending[0] as unknown as { scope: string }).scope, 'call');
      assert.equal(seen.find((e) => e.event === 'ready') !== undefined, true);
      const foreign = await readEvents(theirs, (evs) => evs.some((e) => e.event === 'ready'));
      assert.deepEqual(foreign.filter((e) => e.event === 'approvals').map((e) => e.data), [{ pending: [] }]);
      assert.equal(foreign.some((e) => e.event === 'call'), false);
    });

    test('the overview and seller aggregates equal a record-by-record count, over a synthetic history that verifies', async () => {
      const added = await seedCalls({ db: tg.db, services: built.services, count: 2_000, orgId: demo.orgId, userId: demo.userId, grantId: null, agentIds: [demo.agentId, 'agt_other'], serviceSlugs: DEMO_SERVICES, days: 40 });
      assert.equal(added, 2_000);
      assert.equal(await seedCalls({ db: tg.db, services: built.services, count: 2_000, orgId: demo.orgId, userId: demo.userId, grantId: null, agentIds: [demo.agentId], serviceSlugs: DEMO_SERVICES }), 0, 'seeding is once');
      await paidCall('/proxy/search/search?q=today');
      const res = await fetch(url(`/v1/dashboard/overview?orgId=${demo.orgId}`), admin());
      assert.equal(res.status, 200);
      const overview = (await res.json()) as { today: { spentMicros: string; calls: number }; month: { spentMicros: string; calls: number; captured: number; refused: number }; byService: { key: string; spentMicros: string; calls: number }[]; byAgent: { key: string; label?: string }[]; daily: { day: string; spentMicros: string }[]; limits: { kind: string }[] };

      const now = new Date();
      const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      const today = now.toISOString().slice(0, 10);
      const expected = { month: 0n, monthCalls: 0, captured: 0, refused: 0, today: 0n, todayCalls: 0, services: new Map<string, bigint>() };
      for await (const line of tg.audit.exportJsonl({ orgId: demo.orgId })) {
        const r = JSON.parse(line) as { outcome: string; captured_micros: string; created_at: string; service: string };
        const at = new Date(r.created_at);
        if (r.created_at.slice(0, 10) === today) {
          expected.today += BigInt(r.captured_micros);
          expected.todayCalls++;
        }
        if (at < monthStart) continue;
        expected.month += BigInt(r.captured_micros);
        expected.monthCalls++;
        if (r.outcome === 'captured') expected.captured++;
        if (r.outcome === 'refused') expected.refused++;
        expected.services.set(r.service, (expected.services.get(r.service) ?? 0n) + BigInt(r.captured_micros));
      }
      assert.equal(overview.month.spentMicros, String(expected.month));
      assert.equal(overview.month.calls, expected.monthCalls);
      assert.equal(overview.month.captured, expected.captured);
      assert.equal(overview.month.refused, expected.refused);
      assert.equal(overview.today.spentMicros, String(expected.today));
      assert.equal(overview.today.calls, expected.todayCalls);
      for (const row of overview.byService) assert.equal(row.spentMicros, String(expected.services.get(row.key) ?? 0n), row.key);
      assert.equal(overview.daily.length, 30);
      assert.equal(overview.byAgent.find((a) => a.key === demo.agentId)?.label, 'research-agent');
      assert.ok(overview.limits.some((l) => l.kind === 'agent_daily'));

      const seller = (await (await fetch(url('/v1/dashboard/seller?sellerId=sel_demo&days=90'), admin())).json()) as { days: { calls: number; revenueMicros: string }[] };
      const all = (await (await fetch(url('/v1/analytics/services?sellerId=sel_demo&from=2000-01-01T00:00:00Z'), admin())).json()) as { items: { calls: number; revenueMicros: string }[] };
      // 40 days of history fit in the 90-day series, so both views count the same records.
      assert.equal(seller.days.reduce((n, d) => n + d.calls, 0), all.items.reduce((n, s) => n + s.calls, 0));
      assert.equal(seller.days.reduce((n, d) => n + BigInt(d.revenueMicros), 0n), all.items.reduce((n, s) => n + BigInt(s.revenueMicros), 0n));

      const buyerKey = await built.apiKeys.create({ name: 'other buyer 2', role: 'buyer', orgId: (await tg.principals.createOrg({ name: 'Elsewhere' })).id });
      assert.equal((await fetch(url(`/v1/dashboard/overview?orgId=${demo.orgId}`), { headers: { authorization: `Bearer ${buyerKey.secret}` } })).status, 403);
      const verify = (await (await fetch(url('/v1/audit/verify'), admin())).json()) as { ok: boolean; checked: number };
      assert.equal(verify.ok, true);
      assert.ok(verify.checked >= 2_000);
      await assertTollgateHealthy(tg);
    });
  });
}
