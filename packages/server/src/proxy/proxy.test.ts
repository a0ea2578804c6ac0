/**
 * Proxy mechanics with a fake guard and an in-process upstream (no database, no sockets): header
 * hygiene, fingerprints, units, replay answers, and that every settle matches its authorize.
 * The end-to-end behaviour with the real guard is in test/integration/proxy.case.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { ServiceRegistry, TollgateError, type Authorization, type CallRequest, type Guard, type SettleInput } from '@tollgate/core';
import { pgliteTestDatabase } from '@tollgate/core/testing';
import { createLogger } from '../logger.ts';
import { problemHandler } from '../middleware/problem/index.ts';
import { clientResponseHeaders, fingerprintOf, parseUnits, proxy, upstreamRequestHeaders } from './index.ts';

describe('proxy headers', () => {
  test('hop-by-hop, Connection-named, Authorization and X-Tollgate-* never reach the upstream; credentials win', () => {
    const incoming = new Headers({
      authorization: 'Bearer tg_live_x', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1', 'keep-alive': 'timeout=5', te: 'trailers',
      'transfer-encoding': 'chunked', upgrade: 'websocket', cookie: 'a=b', 'x-tollgate-task': 't', 'x-api': 'from-client', accept: 'application/json',
    });
    const out = upstreamRequestHeaders(incoming, { credentials: { 'x-api': 'server-secret', authorization: 'Bearer sk-upstream' }, callId: 'call_1' });
    assert.equal(out.get('x-api'), 'server-secret');
    assert.equal(out.get('authorization'), 'Bearer sk-upstream');
    assert.equal(out.get('accept'), 'application/json');
    assert.equal(out.get('idempotency-key'), 'call_1');
    for (const name of ['connection', 'x-secret-hop', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'cookie', 'x-tollgate-task']) assert.equal(out.get(name), null, name);
  });

  test('answers lose hop-by-hop headers, decoded lengths and any header echoing a credential', () => {
    const upstream = new Headers({ 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': '10', connection: 'close', 'x-echo': 'key=server-secret-123', 'x-tollgate-charge': '0' });
    const out = clientResponseHeaders(upstream, { 'x-api': 'server-secret-123' });
    assert.deepEqual([...out], [['content-type', 'text/plain']]);
  });

  test('fingerprints and units', () => {
    assert.notEqual(fingerprintOf('GET', '/a', '?x=1', 'none'), fingerprintOf('GET', '/a', '?x=2', 'none'));
    assert.equal(fingerprintOf('POST', '/a', '', 'sha256:1'), fingerprintOf('POST', '/a', '', 'sha256:1'));
    assert.equal(parseUnits('12'), 12n);
    assert.equal(parseUnits(7), 7n);
    for (const bad of ['-1', '1.5', 'abc', '', -3, 1.5, null, '1e3']) assert.equal(parseUnits(bad), undefined, String(bad));
  });
});

/** A guard that authorizes everything once per key and records settles. */
class FakeGuard implements Guard {
  readonly settled: SettleInput[] = [];
  readonly results = new Map<string, { outcome: 'captured' | 'voided'; charged: bigint; result: Record<string, unknown> }>();
  async authorize(request: CallRequest): Promise<Authorization> {
    if (request.token !== 'tg_test_ok') throw new TollgateError('token_invalid', 'bad token');
    const callId = `call_${request.idempotencyKey}`;
    const done = this.results.get(callId);
    if (done) return { type: 'replayed', callId, outcome: done.outcome, chargedMicros: done.charged, remainingMicros: 100n, result: done.result };
    return { type: 'authorized', callId, grantId: 'g', holdMicros: request.priceMicros, free: false, remainingMicros: 1_000_000n - request.priceMicros };
  }
  async settle(input: SettleInput) {
    this.settled.push(input);
    const charged = input.status === 'ok' ? (input.actualMicros ?? 10_000n) : 0n;
    this.results.set(input.callId, { outcome: charged > 0n ? 'captured' : 'voided', charged, result: input.result ?? {} });
    return { callId: input.callId, outcome: charged > 0n ? ('captured' as const) : ('voided' as const), chargedMicros: charged, remainingMicros: 0n, replay: false };
  }
}

describe('proxy with a fake guard', () => {
  test('settles once per call, stores a small body for replay, replays it', async () => {
    const db = await pgliteTestDatabase.open();
    try {
      const services = new ServiceRegistry({ db, upstreams: { allowLoopback: true } });
      await services.create({ slug: 'echo', baseUrl: 'http://127.0.0.1:1', sellerId: 's', prices: [{ type: 'fixed', price: '0.01' }] });
      const upstream = new Hono().get('/hello', (c) => c.json({ hello: 'world' })).get('/boom', (c) => c.text('no', 503));
      const guard = new FakeGuard();
      const logger = createLogger({ level: 'silent' });
      const app = new Hono();
      app.onError(problemHandler({ logger }));
      app.all('/proxy/:service/*', proxy({ guard, services, logger, limits: { requestBodyBytesMax: 1024, fingerprintBodyBytesMax: 1024, replayBodyBytesMax: 1024, unitsBodyBytesMax: 1024, upstreamMaxDurationMs: 5000 }, fetch: async (url, init) => upstream.fetch(new Request(url as string, init as RequestInit)) }));
      const headers = { authorization: 'Bearer tg_test_ok', 'idempotency-key': 'k1' };
      const first = await app.request('/proxy/echo/hello', { headers });
      assert.equal(first.status, 200);
      assert.deepEqual(await first.json(), { hello: 'world' });
      assert.equal(first.headers.get('x-tollgate-charge'), '0.01');
      assert.equal(guard.settled.length, 1);
      assert.equal(guard.settled[0]!.status, 'ok');
      const replay = await app.request('/proxy/echo/hello', { headers });
      assert.equal(replay.headers.get('x-tollgate-replayed'), 'true');
      assert.deepEqual(await replay.json(), { hello: 'world' });
      assert.equal(guard.settled.length, 1, 'a replay settles nothing');
      const failed = await app.request('/proxy/echo/boom', { headers: { ...headers, 'idempotency-key': 'k2' } });
      assert.equal(failed.status, 502);
      assert.equal(guard.settled[1]!.status, 'upstream_failed');
      const refused = await app.request('/proxy/echo/hello', { headers: { authorization: 'Bearer nope' } });
      assert.equal(refused.status, 401);
      assert.equal(guard.settled.length, 2, 'a refusal settles nothing');
    } finally {
      await db.close();
    }
  });
});
