/**
 * The client's retry and error rules against a scripted fetch (the end-to-end tests in
 * packages/server use it against a real gateway).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTollgateFetch, TollgateClientError } from './index.ts';

const problem = (code: string, status: number, extra: Record<string, unknown> = {}) =>
  new Response(JSON.stringify({ type: `https://tollgate.dev/problems/${code.replaceAll('_', '-')}`, title: code, status, detail: code, code, ...extra }), { status, headers: { 'content-type': 'application/problem+json' } });

function scripted(answers: Array<Response | Error>) {
  const seen: Array<{ url: string; headers: Headers }> = [];
  const fetchImpl = (async (input: URL | string, init?: RequestInit) => {
    seen.push({ url: String(input), headers: new Headers(init?.headers) });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    if (next instanceof Error) throw next;
    return next;
  }) as typeof fetch;
  return { seen, fetchImpl };
}

describe('createTollgateFetch', () => {
  test('adds the token and headers; a network error is retried with the same key', async () => {
    const { seen, fetchImpl } = scripted([new TypeError('fetch failed'), new Response('ok')]);
    const pay = createTollgateFetch({ token: 'tg_test_x', baseUrl: 'http://gw', task: 't1', agent: 'a1', fetch: fetchImpl, retryDelayMs: 1 });
    const response = await pay('/proxy/s/x', { reason: 'why' });
    assert.equal(await response.text(), 'ok');
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.url, 'http://gw/proxy/s/x');
    assert.equal(seen[0]!.headers.get('authorization'), 'Bearer tg_test_x');
    assert.equal(seen[0]!.headers.get('x-tollgate-task'), 't1');
    assert.equal(seen[0]!.headers.get('x-tollgate-agent'), 'a1');
    assert.equal(seen[0]!.headers.get('x-tollgate-reason'), 'why');
    assert.ok(seen[0]!.headers.get('idempotency-key'));
    assert.equal(seen[1]!.headers.get('idempotency-key'), seen[0]!.headers.get('idempotency-key'));
  });

  test('call_in_flight keeps the key; upstream_failed takes a new one', async () => {
    const { seen, fetchImpl } = scripted([problem('call_in_flight', 409, { retryAfterSeconds: 0 }), problem('upstream_failed', 502), new Response('ok')]);
    const pay = createTollgateFetch({ token: 't', baseUrl: 'http://gw', fetch: fetchImpl, retryDelayMs: 1 });
    await pay('/proxy/s/x', { idempotencyKey: 'mine' });
    assert.deepEqual(seen.map((s) => s.headers.get('idempotency-key') === 'mine'), [true, true, false]);
  });

  test('refusals become TollgateClientError; an upstream 404 is a response', async () => {
    const { fetchImpl } = scripted([problem('budget_exceeded', 402, { limit: 'grant_total', remaining: '0.00', callId: 'call_1' }), new Response('{"e":1}', { status: 404, headers: { 'content-type': 'application/json' } })]);
    const pay = createTollgateFetch({ token: 't', baseUrl: 'http://gw', fetch: fetchImpl });
    await assert.rejects(pay('/proxy/s/x'), (e: unknown) => e instanceof TollgateClientError && e.code === 'budget_exceeded' && e.family === 'budget' && e.data.limit === 'grant_total' && e.callId === 'call_1');
    assert.equal((await pay('/proxy/s/x')).status, 404);
  });

  test('waits for an approval, then retries with it and the same key; a denial throws', async () => {
    const { seen, fetchImpl } = scripted([
      problem('approval_required', 403, { approvalId: 'apr_1' }),
      new Response(JSON.stringify({ state: 'pending' }), { headers: { 'content-type': 'application/json' } }),
      new Response(JSON.stringify({ state: 'approved' }), { headers: { 'content-type': 'application/json' } }),
      new Response('paid'),
    ]);
    const asked: string[] = [];
    const pay = createTollgateFetch({ token: 't', baseUrl: 'http://gw', fetch: fetchImpl, waitForApproval: { timeoutMs: 5000, onApprovalRequired: (i) => asked.push(i.approvalId) } });
    assert.equal(await (await pay('/proxy/s/x', { idempotencyKey: 'k' })).text(), 'paid');
    assert.deepEqual(asked, ['apr_1']);
    assert.match(seen[1]!.url, /\/v1\/approvals\/apr_1\/wait\?timeoutMs=/);
    assert.equal(seen[3]!.headers.get('x-tollgate-approval'), 'apr_1');
    assert.equal(seen[3]!.headers.get('idempotency-key'), 'k');
    const denied = scripted([problem('approval_required', 403, { approvalId: 'apr_2' }), new Response(JSON.stringify({ state: 'denied' }), { headers: { 'content-type': 'application/json' } })]);
    const pay2 = createTollgateFetch({ token: 't', baseUrl: 'http://gw', fetch: denied.fetchImpl, waitForApproval: { timeoutMs: 5000 } });
    await assert.rejects(pay2('/proxy/s/x'), (e: unknown) => e instanceof TollgateClientError && e.code === 'approval_denied');
  });
});
