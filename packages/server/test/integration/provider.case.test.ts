import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { createPaidTools, paidExpressRoute, paidRoute, perUnit } from '@tollgate/provider';
import { assertTollgateHealthy, testDatabases } from '@tollgate/core/testing';
import { startServer, type RunningServer } from '../../src/index.ts';
import { eventually, startGateway, type Buyer, type Gateway } from './harness.ts';
import { earningsMicros } from './mcp-harness.ts';

const SELLER = 'sel_weather';

/** The seller's own MCP server, made paid with @tollgate/provider. */
async function startSellerServer(tollgateUrl: string, sellerKey: string): Promise<{ url: string; close(): Promise<void> }> {
  const paid = createPaidTools({ url: tollgateUrl, sellerKey, service: 'weather' });
  const build = () => {
    const server = new McpServer({ name: 'weather', version: '1.0.0' });
    server.registerTool('forecast', { inputSchema: { city: z.string() } }, paid.tool({ name: 'forecast', price: '0.02' }, async ({ city }) => ({ content: [{ type: 'text', text: `Sunny in ${city}` }] })));
    server.registerTool('broken', { inputSchema: { city: z.string() } }, paid.tool({ name: 'broken', price: '0.02' }, async () => ({ isError: true, content: [{ type: 'text', text: 'no data' }] })));
    server.registerTool('words', { inputSchema: { text: z.string() } }, paid.tool({ name: 'words', price: { max: '0.10', actual: (r) => perUnit('0.001', (r.structuredContent as { n: number }).n) } }, async ({ text }) => {
      const n = text.split(' ').length;
      return { content: [{ type: 'text', text: String(n) }], structuredContent: { n } };
    }));
    return server;
  };
  const http: HttpServer = createServer(async (req, res) => {
    const server = build();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => void server.close());
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`, close: () => new Promise((r) => { http.closeAllConnections(); http.close(() => r()); }) };
}

for (const engine of testDatabases) {
  describe(`seller SDK, per-user keys and payouts on ${engine.kind}`, { skip: engine.skip }, () => {
    let gw: Gateway;
    let buyer: Buyer;
    let admin: string;
    let sellerKey: string;
    let seller: { url: string; close(): Promise<void> };
    const api = (path: string, init: { method?: string; body?: unknown; key?: string } = {}) =>
      fetch(`${gw.url}${path}`, { method: init.method ?? 'POST', headers: { 'content-type': 'application/json', 'x-api-key': init.key ?? admin }, ...(init.body ? { body: JSON.stringify(init.body) } : {}) });

    before(async () => {
      gw = await startGateway(engine);
      admin = await gw.adminKey();
      sellerKey = (await gw.built.apiKeys.create({ name: 'weather seller', role: 'seller', sellerId: SELLER })).secret;
      buyer = await gw.buyer();
      seller = await startSellerServer(gw.url, sellerKey);
      await gw.built.services.create({ slug: 'weather', kind: 'mcp', mcp: { url: seller.url }, sellerId: SELLER, prices: [{ type: 'fixed', price: '0.02' }] });
    });
    after(async () => {
      await seller?.close();
      if (gw) await assertTollgateHealthy(gw.tg);
      await gw?.close();
    });

    test('a paid seller MCP server: key created once, charged on success only, receipt, earnings, revocation', async () => {
      const created = await api('/v1/provider/keys', { body: { userId: buyer.userId, service: 'weather', totalCap: '1.00' } });
      assert.equal(created.status, 201);
      const { key, keyId } = (await created.json()) as { key: string; keyId: string };
      const client = new Client({ name: 'claude', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(seller.url), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
      const wallet = async () => (await gw.tg.wallets.balance(buyer.userId)).availableMicros;
      const start = await wallet();
      const earned = await earningsMicros(gw, SELLER);
      const ok = (await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { 'io.tollgate/idempotencyKey': 'f-1' } })) as CallToolResult;
      assert.deepEqual(ok.content, [{ type: 'text', text: 'Sunny in Oslo' }]);
      const receipt = ok._meta?.['io.tollgate/receipt'] as { charge: string; outcome: string; remaining: string };
      assert.equal(receipt.charge, '0.02');
      assert.equal(receipt.outcome, 'captured');
      assert.equal(receipt.remaining, '0.98');
      const again = (await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { 'io.tollgate/idempotencyKey': 'f-1' } })) as CallToolResult;
      assert.equal((again._meta?.['io.tollgate/receipt'] as { replayed: boolean }).replayed, true);
      const broken = (await client.callTool({ name: 'broken', arguments: { city: 'Oslo' } })) as CallToolResult;
      assert.equal(broken.isError, true);
      assert.equal((broken._meta?.['io.tollgate/receipt'] as { charge: string }).charge, '0.00');
      const words = (await client.callTool({ name: 'words', arguments: { text: 'a b c' } })) as CallToolResult;
      assert.equal((words._meta?.['io.tollgate/receipt'] as { charge: string }).charge, '0.003');
      assert.equal(await wallet(), start - 23_000n, 'charged 0.02 + 0.003, once each');
      assert.ok((await earningsMicros(gw, SELLER)) - earned > 0n, 'the seller earned');

      const otherKey = await gw.grant(buyer, { services: ['up'] });
      const refusedClient = new Client({ name: 'claude', version: '1' });
      await refusedClient.connect(new StreamableHTTPClientTransport(new URL(seller.url), { requestInit: { headers: { authorization: `Bearer ${otherKey}` } } }));
      const refused = (await refusedClient.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })) as CallToolResult;
      assert.equal(refused.isError, true);
      assert.ok((refused.structuredContent as { code: string }).code, 'a refusal code');
      await refusedClient.close();

      const listed = (await (await api(`/v1/provider/keys?userId=${buyer.userId}&service=weather`, { method: 'GET' })).json()) as { items: { keyId: string; keyHint: string; status: string; spent: string; remaining: string }[] };
      assert.equal(listed.items.length, 1);
      assert.equal(listed.items[0]!.keyId, keyId);
      assert.equal(listed.items[0]!.spent, '0.023');
      assert.equal(listed.items[0]!.remaining, '0.977');
      assert.ok(!JSON.stringify(listed).includes(key), 'a listing never shows the key itself');
      assert.equal(await wallet(), start - 23_000n);

      assert.equal((await api(`/v1/provider/keys/${keyId}`, { method: 'DELETE' })).status, 200);
      const afterRevoke = (await (await api(`/v1/provider/keys?userId=${buyer.userId}`, { method: 'GET' })).json()) as { items: { keyId: string; status: string }[] };
      assert.equal(afterRevoke.items.find((k) => k.keyId === keyId)?.status, 'revoked');
      const revoked = (await client.callTool({ name: 'forecast', arguments: { city: 'Oslo' } })) as CallToolResult;
      assert.equal(revoked.isError, true);
      assert.match((revoked.structuredContent as { code: string }).code, /grant_revoked|token_invalid/);
      assert.equal(await wallet(), start - 23_000n);
      await client.close();
    });

    test('a seller key may not charge for another seller’s service', async () => {
      const other = (await gw.built.apiKeys.create({ name: 'other', role: 'seller', sellerId: 'sel_other' })).secret;
      const key = await gw.grant(buyer, { services: ['weather'] });
      const answer = await api('/v1/provider/authorize', { key: other, body: { service: 'weather', tool: 'forecast', apiKey: key, idempotencyKey: 'x', price: '0.02' } });
      assert.equal(answer.status, 403);
    });

    test('Hono middleware: charged on 2xx, not on 5xx', async () => {
      const app = new Hono();
      app.use('/paid/*', paidRoute({ url: gw.url, sellerKey, service: 'weather', price: '0.01' }));
      app.get('/paid/ok', (c) => c.json({ ok: true }));
      app.get('/paid/fail', (c) => c.json({ ok: false }, 500));
      const server: RunningServer = await startServer(app as never);
      try {
        const key = await gw.grant(buyer, { services: ['weather'] });
        const start = (await gw.tg.wallets.balance(buyer.userId)).availableMicros;
        const ok = await fetch(`${server.url}/paid/ok`, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(ok.status, 200);
        assert.equal(ok.headers.get('x-tollgate-charge'), '0.01');
        const failed = await fetch(`${server.url}/paid/fail`, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(failed.status, 500);
        assert.equal(failed.headers.get('x-tollgate-charge'), '0.00');
        const none = await fetch(`${server.url}/paid/ok`);
        assert.equal(none.status, 401);
        assert.equal((await gw.tg.wallets.balance(buyer.userId)).availableMicros, start - 10_000n);
      } finally {
        await server.close();
      }
    });

    test('Express middleware: charged when the answer finishes with 2xx', async () => {
      // express ships with the MCP SDK; it has no types here, so it is loaded untyped.
      const express = ((await import('express' as string)) as { default: () => any }).default;
      const app = express();
      app.use('/paid', paidExpressRoute({ url: gw.url, sellerKey, service: 'weather', price: '0.01' }));
      app.get('/paid/ok', (_req: unknown, res: { json(v: unknown): void }) => res.json({ ok: true }));
      app.get('/paid/fail', (_req: unknown, res: { status(n: number): { json(v: unknown): void } }) => res.status(502).json({ ok: false }));
      const server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const key = await gw.grant(buyer, { services: ['weather'] });
        const start = (await gw.tg.wallets.balance(buyer.userId)).availableMicros;
        const ok = await fetch(`${url}/paid/ok`, { headers: { authorization: `Bearer ${key}` } });
        assert.equal(ok.status, 200);
        assert.match(ok.headers.get('x-tollgate-call-id') ?? '', /^call_/);
        assert.equal((await fetch(`${url}/paid/fail`, { headers: { authorization: `Bearer ${key}` } })).status, 502);
        assert.equal((await fetch(`${url}/paid/ok`)).status, 401);
        const deadline = Date.now() + 3_000;
        while ((await gw.tg.wallets.balance(buyer.userId)).heldMicros > 0n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
        assert.equal((await gw.tg.wallets.balance(buyer.userId)).availableMicros, start - 10_000n);
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    });

    test('payouts: pending holds earnings, failed returns them, paid moves them out with a reference', async () => {
      const available = await earningsMicros(gw, SELLER);
      assert.ok(available >= 20_000n);
      const tooMuch = await api('/v1/provider/payouts', { key: sellerKey, body: { amount: '1000.00' } });
      assert.equal(((await tooMuch.json()) as { code: string }).code, 'insufficient_funds');
      const first = (await (await api('/v1/provider/payouts', { key: sellerKey, body: { amount: '0.01' } })).json()) as { id: string; status: string };
      assert.equal(first.status, 'pending');
      assert.equal(await earningsMicros(gw, SELLER), available - 10_000n, 'held while pending');
      const failed = (await (await api(`/v1/provider/payouts/${first.id}/failed`, { body: { reason: 'bank rejected' } })).json()) as { status: string };
      assert.equal(failed.status, 'failed');
      assert.equal(await earningsMicros(gw, SELLER), available, 'returned');
      const second = (await (await api('/v1/provider/payouts', { key: sellerKey, body: { amount: '0.01', idempotencyKey: 'po-2' } })).json()) as { id: string };
      const repeated = (await (await api('/v1/provider/payouts', { key: sellerKey, body: { amount: '0.01', idempotencyKey: 'po-2' } })).json()) as { id: string };
      assert.equal(repeated.id, second.id, 'a repeated request is the same payout');
      assert.equal(await earningsMicros(gw, SELLER), available - 10_000n, 'held once');
      const paid = (await (await api(`/v1/provider/payouts/${second.id}/paid`, { body: { reference: 'wire-123' } })).json()) as { status: string; reference: string };
      assert.deepEqual([paid.status, paid.reference], ['paid', 'wire-123']);
      assert.equal(await earningsMicros(gw, SELLER), available - 10_000n);
      const [out] = await gw.tg.ledger.lookupAccounts(['external:payouts']);
      assert.equal(out!.creditsPosted, 10_000n);
      const sellerCannotPay = await api(`/v1/provider/payouts/${second.id}/paid`, { key: sellerKey, body: { reference: 'x' } });
      assert.equal(sellerCannotPay.status, 403);
      const listed = (await (await api('/v1/provider/payouts', { method: 'GET', key: sellerKey })).json()) as { items: unknown[] };
      assert.equal(listed.items.length, 2);
      await eventually(async () => {
        const rows = await gw.db.query<{ status: string; tool: string }>(`SELECT status, tool FROM usage_events WHERE edge = 'sdk' AND service = 'weather'`);
        assert.ok(rows.some((r) => r.status === 'ok' && r.tool === 'forecast'), JSON.stringify(rows));
        assert.ok(rows.some((r) => r.status === 'tool_error' && r.tool === 'broken'));
        assert.ok(rows.some((r) => r.status === 'refused'));
      });
    });
  });
}
