import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertTollgateHealthy, testDatabases } from '@tollgate/core/testing';
import { eventually, startGateway, type Gateway } from '../../test/integration/harness.ts';
import { mcpClient, startMcpGateway } from '../../test/integration/mcp-harness.ts';
import { closedPort, redisSkip, redisTestUrl } from '../../test/support/redis.ts';

/** One paid call through the proxy; its status and problem code. */
async function call(gw: Gateway, token: string): Promise<{ status: number; code?: string; retryAfter: string | null; contentType: string | null }> {
  const res = await fetch(`${gw.url}/proxy/up/fixed`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { code?: string };
  return { status: res.status, ...(body.code ? { code: body.code } : {}), retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type') };
}

async function withGateway(engine: (typeof testDatabases)[number], config: Parameters<typeof startGateway>[1], run: (gw: Gateway) => Promise<void>): Promise<void> {
  const gw = await startGateway(engine, config);
  try {
    await run(gw);
    await assertTollgateHealthy(gw.tg);
  } finally {
    await gw.built.metering.close();
    await gw.close();
  }
}

async function walletSpent(gw: Gateway, userId: string): Promise<bigint> {
  const balance = await gw.tg.wallets.balance(userId);
  return 100_000_000n - balance.availableMicros;
}

for (const engine of testDatabases) {
  describe(`quotas at the edges on ${engine.kind}`, { skip: engine.skip }, () => {
    test('over quota: 429 quota_exceeded with Retry-After, before any hold; exactly the quota of concurrent calls succeed', async () => {
      await withGateway(engine, { quotaLimit: 5, quotaWindowSeconds: 86_400 }, async (gw) => {
        const buyer = await gw.buyer();
        const token = await gw.grant(buyer);
        const results = await Promise.all(Array.from({ length: 12 }, () => call(gw, token)));
        assert.equal(results.filter((r) => r.status === 200).length, 5);
        const refused = results.filter((r) => r.status !== 200);
        assert.equal(refused.length, 7);
        for (const r of refused) {
          assert.deepEqual([r.status, r.code, r.contentType], [429, 'quota_exceeded', 'application/problem+json']);
          assert.ok(Number(r.retryAfter) >= 1);
        }
        assert.equal(await walletSpent(gw, buyer.userId), 5n * 10_000n, 'only the calls that got through were charged');
        const [row] = await gw.db.query<{ holds: bigint }>('SELECT count(*) AS holds FROM calls WHERE user_id = $1', [buyer.userId]);
        assert.equal(Number(row!.holds), 5, 'refused calls never reached the guard');
        await eventually(async () => {
          const rows = await gw.db.query<{ code: string }>("SELECT code FROM usage_events WHERE principal_id = $1 AND status = 'refused'", [buyer.userId]);
          assert.equal(rows.filter((r) => r.code === 'quota_exceeded').length, 7, 'quota refusals are metered');
        });
      });
    });

    test('a user\'s own quota is set through the admin API and applies at once', async () => {
      await withGateway(engine, {}, async (gw) => {
        const buyer = await gw.buyer();
        const token = await gw.grant(buyer);
        const key = await gw.adminKey();
        const admin = (method: string, body?: unknown) => fetch(`${gw.url}/v1/quotas/${buyer.userId}`, { method, headers: { 'x-api-key': key, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
        assert.deepEqual(await (await admin('GET')).json(), { principalId: buyer.userId, source: 'none', store: 'postgres' });
        assert.equal((await call(gw, token)).status, 200);
        const bad = await admin('POST', { metric: 'calls', limit: -1, windowSeconds: 86_400 });
        assert.equal(bad.status, 400);
        assert.equal(((await bad.json()) as { field: string }).field, 'limit');
        const set = await admin('POST', { metric: 'calls', limit: 1, windowSeconds: 86_400 });
        assert.deepEqual(await set.json(), { principalId: buyer.userId, source: 'principal', metric: 'calls', limit: '1', windowSeconds: 86_400, store: 'postgres' });
        assert.equal((await call(gw, token)).status, 200);
        assert.equal((await call(gw, token)).code, 'quota_exceeded');
        assert.equal((await admin('DELETE')).status, 200);
        assert.equal((await call(gw, token)).status, 200);
        assert.equal((await fetch(`${gw.url}/v1/quotas/usr_nobody`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ metric: 'calls', limit: 1, windowSeconds: 86_400 }) })).status, 404);
      });
    });

    test('the MCP gateway and the seller API check the same quota before authorize', async () => {
      const gw = await startMcpGateway(engine);
      try {
        const buyer = await gw.buyer();
        const token = await gw.grant(buyer);
        await gw.built.metering.quotas.set(buyer.userId, { metric: 'calls', limit: 2n, windowSeconds: 86_400 });
        const client = await mcpClient(gw, token);
        const first = await client.callTool({ name: 'demo__echo', arguments: { text: 'one' } });
        assert.equal(first.isError, undefined);
        const sellerKey = (await gw.built.apiKeys.create({ name: 'seller', role: 'seller', sellerId: 'sel_test' })).secret;
        const authorize = () => fetch(`${gw.url}/v1/provider/authorize`, {
          method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': sellerKey },
          body: JSON.stringify({ service: 'up', tool: 'forecast', apiKey: token, idempotencyKey: crypto.randomUUID(), price: '0.01' }),
        });
        assert.equal((await authorize()).status, 200, 'the second call of the quota');
        const sdkRefused = await authorize();
        assert.equal(sdkRefused.status, 429);
        assert.equal(((await sdkRefused.json()) as { code: string }).code, 'quota_exceeded');
        const mcpRefused = await client.callTool({ name: 'demo__echo', arguments: { text: 'three' } });
        assert.equal(mcpRefused.isError, true);
        assert.equal((mcpRefused.structuredContent as { code: string }).code, 'quota_exceeded');
        await client.close();
        const [row] = await gw.db.query<{ calls: bigint }>('SELECT count(*) AS calls FROM calls WHERE user_id = $1', [buyer.userId]);
        assert.equal(Number(row!.calls), 2, 'refused calls never reached the guard');
        await gw.tg.guard.settle({ callId: (await gw.db.query<{ id: string }>("SELECT id FROM calls WHERE user_id = $1 AND state = 'authorized'", [buyer.userId]))[0]!.id, status: 'ok' });
        await assertTollgateHealthy(gw.tg);
      } finally {
        await gw.built.metering.close();
        await gw.close();
      }
    });

    test('a units quota counts the units of captured calls (from the outbox) and refuses once they are used up', async () => {
      await withGateway(engine, { quotaMetric: 'units', quotaLimit: 5, quotaWindowSeconds: 86_400, usageExportIntervalMs: 100 }, async (gw) => {
        const stop = gw.built.metering.start();
        try {
          const buyer = await gw.buyer();
          const token = await gw.grant(buyer);
          const usagePriced = async (units: number) => {
            const res = await fetch(`${gw.url}/proxy/up/usage-header?units=${units}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
            const body = (await res.json()) as { code?: string };
            return res.status === 200 ? 'ok' : body.code;
          };
          const exported = () => eventually(async () => {
            const [row] = await gw.db.query<{ cursor: bigint; head: bigint }>(
              "SELECT (SELECT audit_seq FROM usage_exports WHERE sink = 'quota-units') AS cursor, (SELECT max(seq) FROM audit_records WHERE outcome = 'captured') AS head",
            );
            assert.equal(String(row!.cursor), String(row!.head));
          }, 10_000);
          assert.equal(await usagePriced(3), 'ok');
          await exported();
          assert.equal(await usagePriced(3), 'ok', '3 of 5 units used: some left');
          await exported();
          assert.equal(await usagePriced(1), 'quota_exceeded', '6 of 5 used');
        } finally {
          await stop();
        }
      });
    });

    test('Redis configured but unreachable: 503 quota_unavailable, nothing held or charged', { skip: redisSkip() }, async () => {
      await withGateway(engine, { redisUrl: `redis://127.0.0.1:${await closedPort()}`, quotaLimit: 100 }, async (gw) => {
        const buyer = await gw.buyer();
        const token = await gw.grant(buyer);
        const result = await call(gw, token);
        assert.deepEqual([result.status, result.code, result.contentType], [503, 'quota_unavailable', 'application/problem+json']);
        assert.equal(await walletSpent(gw, buyer.userId), 0n);
      });
    });

    test('quotas in Redis: exactly the quota of concurrent calls succeed', { skip: redisSkip() }, async () => {
      await withGateway(engine, { redisUrl: redisTestUrl()!, quotaLimit: 4, quotaWindowSeconds: 86_400 }, async (gw) => {
        const buyer = await gw.buyer();
        const token = await gw.grant(buyer);
        const results = await Promise.all(Array.from({ length: 10 }, () => call(gw, token)));
        assert.equal(results.filter((r) => r.status === 200).length, 4);
        assert.equal(results.filter((r) => r.code === 'quota_exceeded').length, 6);
        assert.equal(await walletSpent(gw, buyer.userId), 4n * 10_000n);
      });
    });
  });
}
