/**
 * MPP through a real Tollgate gateway over sockets, paid by mppx's real clients on the local chain:
 * the HTTP proxy (charge and session, no grant), the MCP gateway (mppx's MCP client, payment
 * required as a tool error, receipt in `_meta`), grants still working beside it, and a fuzz of
 * malformed `Authorization: Payment` headers that must all get a 4xx.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Credential, Receipt } from 'mppx';
import { Mppx, evm as evmClient } from 'mppx/client';
import { McpClient } from 'mppx/mcp/client';
import { openTollgate, type Tollgate } from '@tollgate/core';
import { assertTollgateHealthy, testDatabases, type TestDb } from '@tollgate/core/testing';
import { startLocalChain, type LocalChain, type TestAccount } from '@tollgate/rails/testing';
import { MPP_META, MPP_RAIL_ACCOUNT, MppPayer, evmSession, payOverHttp } from '@tollgate/rails/mpp';
import { deployEscrow, mppChainOf, mppRig, testOffer, TEST_SECRET } from '@tollgate/rails/mpp/testing';
import { Hono } from 'hono';
import { createApp, createLogger, startServer, type RunningServer, type TollgateApp } from '../../src/index.ts';
import { createMppEdge } from '../../src/rails/mpp.ts';
import { mcpGatewayOf } from '../../src/mcp/index.ts';
import { startUpstream, UPSTREAM_SECRET, type Upstream } from './harness.ts';
import { DEMO_MCP_COMMAND } from './mcp-harness.ts';

const SELLER = 'sel_mpp';

describe('MPP through the gateway', () => {
  let chain: LocalChain;
  before(async () => {
    chain = await startLocalChain();
  });
  after(() => chain.stop());

  for (const engine of testDatabases) {
    describe(engine.kind, { skip: engine.skip }, () => {
      let db: TestDb;
      let tg: Tollgate;
      let built: TollgateApp;
      let server: RunningServer;
      let upstream: Upstream;
      let payee: TestAccount;
      let mppUpstream: RunningServer;
      let buyerWallet: TestAccount;

      /** What MPP settlements credited to sellers (grant calls earn into the same account, settled after their answer). */
      const earnings = async () => {
        const [rail] = await tg.ledger.lookupAccounts([MPP_RAIL_ACCOUNT]);
        return rail ? rail.debitsPosted - rail.creditsPosted : 0n;
      };
      async function payer(amount = 1_000_000n): Promise<TestAccount> {
        const account = await chain.newAccount();
        await chain.mint(account.address, amount);
        return account;
      }
      const chargeMethod = (account: TestAccount) => evmClient.charge({
        account: account.account, authorization: { name: chain.token.name, version: chain.token.version },
        currencies: [chain.token.address], networks: [chain.chainId], decimals: 6, maxAmount: '0.05',
      });

      before(async () => {
        db = await engine.open();
        tg = await openTollgate({ db });
        payee = await chain.newAccount();
        const mppChain = mppChainOf(chain, payee);
        const mpp = createMppEdge({ tg, chain: mppChain, escrow: await deployEscrow(mppChain), secretKey: TEST_SECRET, realm: 'gateway.test' });
        // An MPP seller elsewhere (its own payee), which Tollgate pays from its own wallet when a grant calls it.
        const upstreamRig = await mppRig(chain, undefined, { server: await chain.newAccount() });
        const asked = testOffer({ amountMicros: 30_000n, intents: ['charge'] });
        mppUpstream = await startServer(new Hono().all('*', (c) => payOverHttp(upstreamRig.seller, c.req.raw, asked, async () => Response.json({ paid: true }))) as never, { host: '127.0.0.1', port: 0 });
        buyerWallet = await chain.newAccount();
        await chain.mint(buyerWallet.address, 1_000_000n);
        const mppPayer = new MppPayer({ privateKey: buyerWallet.privateKey, tokens: [{ chainId: chain.chainId, address: chain.token.address, name: chain.token.name, version: chain.token.version }] });
        // x402 on too (its facilitator is never reached by these tests), for a service that takes both rails.
        built = createApp({ tg, config: { allowLoopbackUpstreams: true, sweepIntervalSeconds: 0, x402FacilitatorUrl: 'http://127.0.0.1:9' }, logger: createLogger({ level: 'silent' }), mpp, upstreamPayers: [mppPayer] });
        server = await startServer(built.app);
        upstream = await startUpstream();
        const fixed = [{ method: '*' as const, path: '/**', type: 'fixed' as const, price: '0.01' }];
        await built.services.create({ slug: 'paid', baseUrl: upstream.url, sellerId: SELLER, prices: fixed, credentials: { headers: { 'x-upstream-key': UPSTREAM_SECRET } }, metadata: { mpp: true } });
        await built.services.create({ slug: 'charge-only', baseUrl: upstream.url, sellerId: SELLER, prices: fixed, metadata: { mpp: { intents: ['charge'] } } });
        await built.services.create({ slug: 'plain', baseUrl: upstream.url, sellerId: SELLER, prices: fixed });
        const x402 = { payTo: payee.address, network: `eip155:${chain.chainId}`, asset: chain.token.address, name: chain.token.name, version: chain.token.version };
        await built.services.create({ slug: 'both', baseUrl: upstream.url, sellerId: SELLER, prices: fixed, metadata: { mpp: { intents: ['charge'] }, x402 } });
        await built.services.create({ slug: 'mpp-upstream', baseUrl: mppUpstream.url, sellerId: 'sel_elsewhere', prices: [{ type: 'fixed', price: '0.05' }], metadata: { payUpstream: ['mpp'] } });
        await built.services.create({ slug: 'demo', kind: 'mcp', mcp: { command: DEMO_MCP_COMMAND }, sellerId: SELLER, prices: fixed, timeoutMs: 5_000, metadata: { mpp: true } });
      });
      after(async () => {
        await mcpGatewayOf(tg)?.close();
        (server.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        await server.close();
        await upstream.close();
        await mppUpstream.close();
        await assertTollgateHealthy(tg);
        // The seller's earnings are exactly its MPP settlements plus its one grant-paid call.
        const [account] = await tg.ledger.lookupAccounts([`earnings:${SELLER}`]);
        assert.equal(account!.creditsPosted - account!.debitsPosted, (await earnings()) + 10_000n);
        await tg.close();
        await db.close();
      });

      test("HTTP charge: mppx's client pays a proxied service without a grant; the upstream gets its credential, never the payment", async () => {
        const account = await payer();
        const earned = await earnings();
        const mppx = Mppx.create({ polyfill: false, fetch: globalThis.fetch, methods: [chargeMethod(account)] });
        const response = await mppx.fetch(`${server.url}/proxy/paid/fixed?q=1`);
        assert.equal(response.status, 200);
        const body = await response.json() as { credential: boolean; authorization: string | null };
        assert.equal(body.credential, true, 'the upstream credential is injected');
        assert.equal(body.authorization, null, 'the Payment credential never reaches the upstream');
        const receipt = Receipt.fromResponse(response);
        assert.equal((await chain.publicClient.getTransactionReceipt({ hash: receipt.reference as `0x${string}` })).status, 'success');
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - 10_000n);
        assert.equal(await earnings(), earned + 10_000n);
      });

      test('a service takes MPP only when its metadata says so; grants keep working beside it', async () => {
        const challenged = await fetch(`${server.url}/proxy/paid/fixed`);
        assert.equal(challenged.status, 402);
        assert.equal(challenged.headers.get('www-authenticate')?.split('Payment ').length, 3, 'one challenge per intent (charge, session)');
        const chargeOnly = await fetch(`${server.url}/proxy/charge-only/fixed`);
        assert.match(chargeOnly.headers.get('www-authenticate') ?? '', /intent="charge"/);
        assert.doesNotMatch(chargeOnly.headers.get('www-authenticate') ?? '', /intent="session"/);
        const plain = await fetch(`${server.url}/proxy/plain/fixed`);
        assert.equal(plain.status, 401, 'a service without MPP still wants a grant');
        const account = await payer();
        const mppx = Mppx.create({ polyfill: false, fetch: globalThis.fetch, methods: [chargeMethod(account)] });
        const credential = await mppx.createCredential(await fetch(`${server.url}/proxy/paid/fixed`));
        const refused = await fetch(`${server.url}/proxy/plain/fixed`, { headers: { authorization: credential } });
        assert.equal(refused.status, 400);

        const org = await tg.principals.createOrg({ name: 'Acme' });
        const user = await tg.principals.createUser({ orgId: org.id, name: 'Ada' });
        await tg.wallets.topUp({ ownerId: user.id, amount: '5.00', reference: 'seed-mpp' });
        const { token } = await tg.grants.create({ userId: user.id, totalCap: '1.00', services: ['*'] });
        const granted = await fetch(`${server.url}/proxy/paid/fixed`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(granted.status, 200);
        assert.equal(granted.headers.get('x-tollgate-charge'), '0.01');
        assert.equal(granted.headers.get('payment-receipt'), null);
      });

      test('a service that takes x402 and MPP: the unpaid 402 offers both; an x402 payment is left to the x402 rail; MPP pays', async () => {
        const unpaid = await fetch(`${server.url}/proxy/both/fixed`);
        assert.equal(unpaid.status, 402);
        assert.ok(unpaid.headers.get('payment-required'), "x402's offer");
        assert.match(unpaid.headers.get('www-authenticate') ?? '', /^Payment .*intent="charge"/, "MPP's challenge");
        const x402Attempt = await fetch(`${server.url}/proxy/both/fixed`, { headers: { 'payment-signature': 'not-base64!' } });
        assert.notEqual(x402Attempt.status, 200);
        assert.doesNotMatch(x402Attempt.headers.get('www-authenticate') ?? '', /^Payment /, 'the MPP rail stayed out of it');
        const account = await payer();
        const mppx = Mppx.create({ polyfill: false, fetch: globalThis.fetch, methods: [chargeMethod(account)] });
        const paid = await mppx.fetch(`${server.url}/proxy/both/fixed`);
        assert.equal(paid.status, 200);
        assert.ok(paid.headers.get('payment-receipt'));
      });

      test('HTTP session: open, ten calls, close — the escrow pays exactly what the ledger records', async () => {
        const account = await payer();
        const earned = await earnings();
        const payeeBefore = await chain.tokenBalance(payee.address);
        const method = evmSession({ walletClient: chain.walletClient(account), publicClient: chain.publicClient, depositMicros: 200_000n, maxDepositMicros: 500_000n, maxAmountMicros: 50_000n });
        const mppx = Mppx.create({ polyfill: false, fetch: globalThis.fetch, methods: [method] });
        for (let i = 0; i < 10; i++) assert.equal((await mppx.fetch(`${server.url}/proxy/paid/fixed`)).status, 200);
        const closed = await fetch(`${server.url}/proxy/paid/fixed`, { headers: { authorization: await mppx.createCredential(await fetch(`${server.url}/proxy/paid/fixed`), { action: 'close' }) } });
        assert.equal(closed.status, 200);
        assert.equal((await closed.json()).closed, true);
        assert.equal(await chain.tokenBalance(payee.address), payeeBefore + 100_000n);
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - 100_000n);
        assert.equal(await earnings(), earned + 100_000n);
      });

      test("MCP: a grantless agent pays a tool with mppx's MCP client; a plain client sees a tool error with the challenges", async () => {
        const account = await payer();
        const earned = await earnings();
        const plain = new Client({ name: 'plain', version: '1.0.0' });
        await plain.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
        assert.deepEqual(plain.getServerCapabilities()?.experimental?.payment, { methods: { evm: { intents: ['charge', 'session'] } } });
        const tools = await plain.listTools();
        assert.ok(tools.tools.some((t) => t.name === 'demo__echo'), 'MPP services are listed without a grant');
        const unpaid = await plain.callTool({ name: 'demo__echo', arguments: { text: 'hi' } });
        assert.equal(unpaid.isError, true);
        const required = unpaid._meta?.[MPP_META.paymentRequired] as { httpStatus: number; challenges: { intent: string; request: unknown }[] };
        assert.equal(required.httpStatus, 402);
        assert.equal(typeof required.challenges[0]!.request, 'object', 'the request is native JSON on MCP');

        // Malformed credentials in _meta are tool errors naming the problem, never a protocol error or a crash.
        for (const credential of [null, 'Payment abc', 42, [], {}, { challenge: 'x', payload: {} }, { challenge: { ...required.challenges[0], id: '' }, payload: {} },
          { challenge: required.challenges[0], payload: { type: 'authorization' } }, { challenge: { ...required.challenges[0], request: 'zz' }, payload: {} }]) {
          const result = await plain.callTool({ name: 'demo__echo', arguments: { text: 'hi' }, _meta: { [MPP_META.credential]: credential } });
          assert.equal(result.isError, true, JSON.stringify(credential));
          assert.match(JSON.stringify(result.structuredContent), /paymentauth\.org\/problems\//);
        }
        const paying = McpClient.wrap(new Client({ name: 'paying', version: '1.0.0' }), { methods: [chargeMethod(account)] });
        await paying.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
        const paid = await paying.callTool({ name: 'demo__echo', arguments: { text: 'hello' } }) as { content: { text: string }[]; receipt?: { reference: string; challengeId: string } };
        assert.equal(paid.content[0]!.text, 'hello');
        assert.ok(paid.receipt?.reference.startsWith('0x'), 'the receipt names the transaction');
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - 10_000n);
        assert.equal(await earnings(), earned + 10_000n);

        const failed = await paying.callTool({ name: 'demo__fail', arguments: {} }) as { isError?: boolean };
        assert.equal(failed.isError, true);
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - 10_000n, 'a tool error is not charged');
        await plain.close();
        await paying.close();
      });

      test("MCP session: mppx's MCP client opens a channel once, pays five tool calls with vouchers, then closes it", async () => {
        const account = await payer();
        const earned = await earnings();
        const payeeBefore = await chain.tokenBalance(payee.address);
        const method = evmSession({ walletClient: chain.walletClient(account), publicClient: chain.publicClient, depositMicros: 100_000n, maxDepositMicros: 500_000n, maxAmountMicros: 50_000n });
        const client = McpClient.wrap(new Client({ name: 'session-agent', version: '1.0.0' }), { methods: [method] });
        await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
        const blockAfterOpen: bigint[] = [];
        for (let i = 0; i < 5; i++) {
          const result = await client.callTool({ name: 'demo__echo', arguments: { text: `call ${i}` } }) as { content: { text: string }[]; receipt?: { intent: string; spent: string } };
          assert.equal(result.content[0]!.text, `call ${i}`);
          assert.equal(result.receipt?.intent, 'session');
          assert.equal(result.receipt?.spent, String(10_000n * BigInt(i + 1)));
          blockAfterOpen.push(await chain.publicClient.getBlockNumber({ cacheTime: 0 }));
        }
        assert.equal(new Set(blockAfterOpen).size, 1, 'no transaction after the open');
        const closed = await client.callTool({ name: 'demo__echo', arguments: { text: 'bye' } }, undefined, { context: { action: 'close' } } as never) as { structuredContent?: { closed?: boolean } };
        assert.equal(closed.structuredContent?.closed, true);
        assert.equal(await chain.tokenBalance(payee.address), payeeBefore + 50_000n);
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n - 50_000n);
        assert.equal(await earnings(), earned + 50_000n);
        await client.close();
      });

      test('buyer side: a grant call to an MPP upstream is paid from Tollgate\'s wallet inside the hold; the Payment-Receipt is recorded with the call', async () => {
        const org = await tg.principals.createOrg({ name: 'Buyer' });
        const user = await tg.principals.createUser({ orgId: org.id, name: 'Bo' });
        await tg.wallets.topUp({ ownerId: user.id, amount: '1.00', reference: `seed-${user.id}` });
        const { token } = await tg.grants.create({ userId: user.id, totalCap: '0.50', services: ['mpp-upstream'] });
        const onChain = await chain.tokenBalance(buyerWallet.address);
        const response = await fetch(`${server.url}/proxy/mpp-upstream/q`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { paid: true });
        assert.equal(response.headers.get('x-tollgate-charge'), '0.03', 'the asked price is captured, not the hold');
        assert.equal(await chain.tokenBalance(buyerWallet.address), onChain - 30_000n);
        const callId = response.headers.get('x-tollgate-call-id')!;
        let record;
        for (let i = 0; i < 100 && !record; i++) {
          record = (await tg.audit.history(callId)).find((r) => r.outcome === 'captured');
          if (!record) await new Promise((r) => setTimeout(r, 20));
        }
        assert.equal(record?.capturedMicros, 30_000n);
        assert.match(record?.summary ?? '', /paid the upstream 0\.03 with mpp to 0x[0-9a-fA-F]{40}, tx 0x[0-9a-f]{64}/);
        assert.equal((await tg.wallets.balance(user.id)).availableMicros, 1_000_000n - 30_000n);
      });

      test('fuzz: malformed Authorization: Payment headers always get a 4xx, never a 5xx', async () => {
        const account = await payer();
        const mppx = Mppx.create({ polyfill: false, fetch: globalThis.fetch, methods: [chargeMethod(account)] });
        const real = Credential.deserialize(await mppx.createCredential(await fetch(`${server.url}/proxy/paid/fixed`)));
        const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
        const random = (n: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString('base64url');
        const headers: string[] = [
          'Payment', 'Payment ', 'Payment !!!', 'Payment ====', `Payment ${random(3000)}`, `Payment ${'A'.repeat(20_000)}`,
          `Payment ${b64('not json')}`, `Payment ${b64('null')}`, `Payment ${b64([])}`, `Payment ${b64({})}`, `Payment ${b64({ challenge: null, payload: {} })}`,
          `Payment ${b64({ challenge: 'x', payload: {} })}`, `Payment ${b64({ challenge: { ...real.challenge, request: 'zzz' }, payload: {} })}`,
          `payment ${b64({ challenge: real.challenge, payload: null })}`,
        ];
        const mutations: ((c: Record<string, any>) => void)[] = [
          (c) => { c.challenge.id = ''; }, (c) => { c.challenge.id = 'x'.repeat(5000); }, (c) => { c.challenge.expires = 'yesterday'; },
          (c) => { c.challenge.method = 'tempo'; }, (c) => { c.challenge.method = 'EVM!'; }, (c) => { c.challenge.intent = 'subscription'; },
          (c) => { c.challenge.realm = 'elsewhere'; }, (c) => { c.challenge.request = { amount: '1' }; }, (c) => { c.challenge.opaque = '%%%'; },
          (c) => { c.payload = {}; }, (c) => { c.payload.signature = '0x'; }, (c) => { c.payload.signature = `0x${'ff'.repeat(65)}`; },
          (c) => { c.payload.value = '-1'; }, (c) => { c.payload.value = '1e6'; }, (c) => { c.payload.validBefore = 'soon'; },
          (c) => { c.payload.from = 'nobody'; }, (c) => { c.payload.nonce = 42; }, (c) => { c.payload.type = 'permit2'; },
          (c) => { c.challenge.intent = 'session'; c.payload = { action: 'voucher', channelId: `0x${'00'.repeat(32)}`, cumulativeAmount: '1', signature: `0x${'11'.repeat(65)}` }; },
          (c) => { c.challenge.intent = 'session'; c.payload = { action: 'open', type: 'hash' }; },
          (c) => { c.challenge.intent = 'session'; c.payload = { action: 'close', channelId: 'x', cumulativeAmount: '99999999999999999999999999999999999999999', signature: 1 }; },
          (c) => { c.source = { not: 'a string' }; },
        ];
        for (const mutate of mutations) {
          const wire = JSON.parse(JSON.stringify({ ...real, challenge: { ...real.challenge, request: b64Request(real.challenge.request) } }));
          mutate(wire);
          headers.push(`Payment ${b64(wire)}`);
        }
        for (let i = 0; i < 150; i++) headers.push(`Payment ${b64(randomJson(4))}`);
        // A real credential with one character changed anywhere (bad base64, bad JSON, or a field edited).
        // Its challenge was claimed by the first mutation that reached verification above (a claim comes
        // before verification), so a change that decodes to the same bytes is a refused replay, not a payment.
        const realHeader = Credential.serialize(real);
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        for (let i = 0; i < 150; i++) {
          const at = 8 + Math.floor(Math.random() * (realHeader.length - 8));
          const others = alphabet.replace(realHeader[at]!, '');
          headers.push(`${realHeader.slice(0, at)}${others[Math.floor(Math.random() * others.length)]}${realHeader.slice(at + 1)}`);
        }
        for (const header of headers) {
          const response = await fetch(`${server.url}/proxy/paid/fixed`, { headers: { authorization: header } });
          assert.ok(response.status >= 400 && response.status < 500, `${response.status} for ${header.slice(0, 120)}`);
          await response.body?.cancel();
        }
        assert.equal(await chain.tokenBalance(account.address), 1_000_000n, 'no fuzzed header moved money');
      });
    });
  }
});

function b64Request(request: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(request)).toString('base64url');
}

/** A random JSON value, `depth` levels deep at most, biased towards credential-like keys. */
function randomJson(depth: number): unknown {
  const keys = ['challenge', 'payload', 'source', 'id', 'realm', 'method', 'intent', 'request', 'expires', 'type', 'signature', 'action'];
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  const roll = Math.random();
  if (depth <= 0 || roll < 0.3) return pick<unknown>([null, true, 0, -1, 1e308, '', 'evm', 'charge', '0x', 'x'.repeat(300), '2026-01-01T00:00:00Z']);
  if (roll < 0.45) return Array.from({ length: Math.floor(Math.random() * 4) }, () => randomJson(depth - 1));
  return Object.fromEntries(Array.from({ length: 1 + Math.floor(Math.random() * 5) }, () => [pick(keys), randomJson(depth - 1)]));
}
