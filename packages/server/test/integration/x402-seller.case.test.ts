/**
 * x402 seller side, end to end on a real chain: the REAL @x402/fetch client pays a Tollgate-fronted
 * service; Tollgate verifies locally and through a local facilitator (HTTP), settles on anvil with
 * transferWithAuthorization, and credits the seller's earnings. Chain and ledger must agree.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { x402Client } from '@x402/core/client';
import type { PaymentPayload, PaymentRequired, SettleResponse } from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { wrapFetchWithPayment } from '@x402/fetch';
import { toHex } from 'viem';
import { assertTollgateHealthy, testDatabases } from '@tollgate/core/testing';
import { HTTPFacilitatorClient } from '@x402/core/http';
import type { Tollgate } from '@tollgate/core';
import { LocalFacilitator, makeOffer, paymentRequired, serveFacilitator, serveFetch, TRANSFER_WITH_AUTHORIZATION_TYPES, X402Seller, X402SettingsSchema, type FacilitatorServer } from '@tollgate/rails';
import { startLocalChain, type LocalChain, type TestAccount } from '@tollgate/rails/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mcpGatewayOf } from '../../src/mcp/index.ts';
import { receiptReader } from '../../src/rails/x402.ts';
import { eventually, startGateway, type Gateway } from './harness.ts';
import { DEMO_MCP_COMMAND, earningsMicros } from './mcp-harness.ts';

const SELLER = 'sel_x402';
const PRICE_MICROS = 250_000n;
const decode = <T>(value: string | null): T => JSON.parse(Buffer.from(value ?? '', 'base64').toString('utf8')) as T;

interface Upstream { url: string; hits: Map<string, number>; onDrain?: () => Promise<void>; close(): Promise<void> }

async function startUpstream(): Promise<Upstream> {
  const hits = new Map<string, number>();
  const upstream: Upstream = { url: '', hits, close: async () => {} };
  const server = await serveFetch(async (request) => {
    const path = new URL(request.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path.endsWith('/slow')) await new Promise((r) => setTimeout(r, 300));
    if (path.endsWith('/drain')) await upstream.onDrain?.();
    if (path.endsWith('/fail')) return Response.json({ error: 'boom' }, { status: 500 });
    // The payment is the gateway's: an upstream that receives it fails every paid test.
    if (request.headers.has('payment-signature') || request.headers.has('x-payment')) return Response.json({ error: 'payment header leaked' }, { status: 500 });
    return Response.json({ secret: `content of ${path}` });
  });
  upstream.url = server.url;
  upstream.close = server.close;
  return upstream;
}

describe('x402 seller side on a local chain', () => {
  let chain: LocalChain;
  let facilitatorServer: FacilitatorServer;
  let upstream: Upstream;
  let payTo: TestAccount;

  before(async () => {
    chain = await startLocalChain();
    payTo = await chain.newAccount();
    const facilitator = new LocalFacilitator({ publicClient: chain.publicClient, walletClient: chain.walletClient(chain.accounts[0]!), receiptTimeoutMs: 1_500 });
    facilitatorServer = await serveFacilitator(facilitator);
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream?.close();
    await facilitatorServer?.close();
    await chain?.stop();
  });

  for (const engine of testDatabases) {
    describe(`on ${engine.kind}`, { skip: engine.skip }, () => {
      let gw: Gateway;
      let payer: TestAccount;
      let earnedBefore: bigint;
      let paidBefore: bigint;
      // Each engine has its own upstream paths, so hit counts do not carry over.
      const p = (path: string) => `/${engine.kind}${path}`;
      const url = (path: string) => `${gw.url}/proxy/paid${p(path)}`;
      const buyerClient = (from: TestAccount) => x402Client.fromConfig({ schemes: [{ network: 'eip155:*', client: new ExactEvmScheme(from.account) }], spendControls: false });
      /** The 402 challenge of a route, as the client decodes it. */
      const challengeOf = async (path: string): Promise<PaymentRequired> => decode<PaymentRequired>((await fetch(url(path))).headers.get('payment-required'));
      const signedHeader = async (path: string, from = payer, edit?: (required: PaymentRequired) => void): Promise<string> => {
        const required = await challengeOf(path);
        edit?.(required);
        return Buffer.from(JSON.stringify(await buyerClient(from).createPaymentPayload(required))).toString('base64');
      };
      /** The seller's earnings once the ledger has caught up with the chain (credits land just after each answer). */
      const agreedEarnings = async (): Promise<bigint> => {
        let earned = 0n;
        await eventually(async () => {
          earned = await earningsMicros(gw, SELLER);
          assert.equal(earned - earnedBefore, (await chain.tokenBalance(payTo.address)) - paidBefore);
        });
        return earned;
      };
      const pay = (path: string, header: string, name = 'payment-signature') => fetch(url(path), { headers: { [name]: header } });

      before(async () => {
        gw = await startGateway(engine, { x402FacilitatorUrl: facilitatorServer.url, chainRpcUrl: chain.rpcUrl, logLevel: 'silent' }, { defaultService: false });
        await gw.built.services.create({
          slug: 'paid', kind: 'http', baseUrl: upstream.url, sellerId: SELLER, prices: [{ type: 'fixed', price: '0.25' }],
          metadata: { x402: { payTo: payTo.address, network: chain.network, asset: chain.token.address, name: chain.token.name, version: chain.token.version } },
        });
        await gw.built.services.create({
          slug: 'paidmcp', kind: 'mcp', mcp: { command: DEMO_MCP_COMMAND }, sellerId: SELLER, prices: [{ type: 'fixed', price: '0.25' }], timeoutMs: 5_000,
          metadata: { x402: { payTo: payTo.address, network: chain.network, asset: chain.token.address, name: chain.token.name, version: chain.token.version } },
        });
        payer = await chain.newAccount();
        await chain.mint(payer.address, 10_000_000n);
        earnedBefore = await earningsMicros(gw, SELLER);
        paidBefore = await chain.tokenBalance(payTo.address);
      });
      after(async () => {
        if (gw) {
          // The chain and the ledger agree: every token the seller received is in its earnings.
          const received = (await chain.tokenBalance(payTo.address)) - paidBefore;
          await eventually(async () => assert.equal((await earningsMicros(gw, SELLER)) - earnedBefore, received));
          await assertTollgateHealthy(gw.tg);
          await mcpGatewayOf(gw.tg)?.close();
          (gw.server.server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        }
        await gw?.close();
      });

      test('no payment: 402 with PAYMENT-REQUIRED (v2) and a v1 body', async () => {
        const response = await fetch(url('/data'));
        assert.equal(response.status, 402);
        const required = decode<PaymentRequired>(response.headers.get('payment-required'));
        assert.equal(required.x402Version, 2);
        assert.deepEqual(required.accepts[0], {
          scheme: 'exact', network: chain.network, asset: chain.token.address, amount: '250000', payTo: payTo.address, maxTimeoutSeconds: 300,
          extra: { name: 'USD Coin', version: '2' },
        });
        assert.ok(required.extensions?.['payment-identifier']);
        const v1 = (await response.json()) as { x402Version: number; accepts: { maxAmountRequired: string; resource: string }[] };
        assert.equal(v1.x402Version, 1);
        assert.equal(v1.accepts[0]?.maxAmountRequired, '250000');
        assert.equal(v1.accepts[0]?.resource, url('/data'));
        assert.equal(upstream.hits.get(p('/data')), undefined);
      });

      test('the real @x402/fetch client pays: 200, PAYMENT-RESPONSE, tokens moved once, earnings credited, tx hash audited; a replay is refused', async () => {
        const sent: string[] = [];
        const recording: typeof fetch = async (input, init) => {
          const header = new Headers((input as Request).headers ?? init?.headers).get('payment-signature');
          if (header) sent.push(header);
          return fetch(input, init);
        };
        const payerBefore = await chain.tokenBalance(payer.address);
        const earned = await agreedEarnings();
        const response = await wrapFetchWithPayment(recording, buyerClient(payer))(url('/data'));
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { secret: `content of ${p('/data')}` });
        const settled = decode<SettleResponse>(response.headers.get('payment-response'));
        assert.equal(settled.success, true);
        assert.equal(settled.payer, payer.address);
        const receipt = await chain.publicClient.getTransactionReceipt({ hash: settled.transaction as `0x${string}` });
        assert.equal(receipt.status, 'success');
        assert.equal(await chain.tokenBalance(payer.address), payerBefore - PRICE_MICROS);
        // The credit, its audit record and the settled payment row commit together, before the answer.
        assert.equal(await earningsMicros(gw, SELLER), earned + PRICE_MICROS);
        const callId = response.headers.get('x-tollgate-call-id')!;
        const record = (await gw.tg.audit.history(callId)).find((r) => r.outcome === 'captured');
        assert.equal(record?.rail, 'x402');
        assert.match(record?.summary ?? '', new RegExp(settled.transaction));

        assert.equal(sent.length, 1);
        const replay = await pay('/data', sent[0]!);
        assert.equal(replay.status, 402);
        assert.equal(decode<PaymentRequired>(replay.headers.get('payment-required')).error, 'invalid_exact_evm_nonce_already_used');
        assert.equal(upstream.hits.get(p('/data')), 1);
        assert.equal(await chain.tokenBalance(payer.address), payerBefore - PRICE_MICROS);
      });

      test('concurrent replays of one signature run the upstream once and pay once', async () => {
        const header = await signedHeader('/slow');
        const before = upstream.hits.get(p('/slow')) ?? 0;
        const payerBefore = await chain.tokenBalance(payer.address);
        const answers = await Promise.all(Array.from({ length: 5 }, () => pay('/slow', header)));
        const statuses = answers.map((r) => r.status).sort();
        assert.equal(statuses.filter((s) => s === 200).length, 1, String(statuses));
        assert.ok(statuses.every((s) => s === 200 || s === 402 || s === 409), String(statuses));
        assert.equal((upstream.hits.get(p('/slow')) ?? 0) - before, 1);
        assert.equal(await chain.tokenBalance(payer.address), payerBefore - PRICE_MICROS);
      });

      test('tampered signature, wrong payee, insufficient balance → 402 naming the reason, nothing runs', async () => {
        const hits = upstream.hits.get(p('/data'));
        const tampered = JSON.parse(Buffer.from(await signedHeader('/data'), 'base64').toString()) as PaymentPayload;
        (tampered.payload.authorization as Record<string, string>).value = '1';
        tampered.accepted.amount = '250000';
        let response = await pay('/data', Buffer.from(JSON.stringify(tampered)).toString('base64'));
        assert.equal(decode<PaymentRequired>(response.headers.get('payment-required')).error, 'invalid_exact_evm_payload_authorization_value_mismatch');
        const forged = JSON.parse(Buffer.from(await signedHeader('/data'), 'base64').toString()) as PaymentPayload;
        (forged.payload as { signature: string }).signature = `0x${'11'.repeat(64)}1b`;
        response = await pay('/data', Buffer.from(JSON.stringify(forged)).toString('base64'));
        assert.equal(response.status, 402);
        assert.equal(decode<PaymentRequired>(response.headers.get('payment-required')).error, 'invalid_exact_evm_signature');

        const thief = await chain.newAccount();
        response = await pay('/data', await signedHeader('/data', payer, (r) => { r.accepts[0]!.payTo = thief.address; }));
        assert.equal(response.status, 402);
        assert.equal(decode<PaymentRequired>(response.headers.get('payment-required')).error, 'invalid_payment_requirements');

        const poor = await chain.newAccount();
        response = await pay('/data', await signedHeader('/data', poor));
        assert.equal(response.status, 402);
        assert.equal(decode<PaymentRequired>(response.headers.get('payment-required')).error, 'insufficient_funds');
        assert.equal(upstream.hits.get(p('/data')), hits);

        // A stored payment is answered without the facilitator: a forgery of its payer and nonce is
        // still refused for its signature, not told what became of the payment.
        const paid = await signedHeader('/forged');
        assert.equal((await pay('/forged', paid)).status, 200);
        const forgedReplay = JSON.parse(Buffer.from(paid, 'base64').toString()) as PaymentPayload;
        (forgedReplay.payload as { signature: string }).signature = `0x${'22'.repeat(64)}1c`;
        response = await pay('/forged', Buffer.from(JSON.stringify(forgedReplay)).toString('base64'));
        assert.equal(response.status, 402);
        assert.equal(decode<PaymentRequired>(response.headers.get('payment-required')).error, 'invalid_exact_evm_signature');
        assert.equal(upstream.hits.get(p('/forged')), 1);
      });

      test('an expired authorization (properly signed) → 402 valid_before', async () => {
        const required = await challengeOf('/data');
        const accepted = required.accepts[0]!;
        const authorization = { from: payer.address, to: payTo.address, value: 250_000n, validAfter: 0n, validBefore: BigInt(Math.floor(Date.now() / 1000) - 60), nonce: toHex(crypto.getRandomValues(new Uint8Array(32))) };
        const signature = await payer.account.signTypedData({
          domain: { name: chain.token.name, version: chain.token.version, chainId: chain.chainId, verifyingContract: chain.token.address },
          types: TRANSFER_WITH_AUTHORIZATION_TYPES, primaryType: 'TransferWithAuthorization', message: authorization,
        });
        const payload = { x402Version: 2, resource: required.resource, accepted, payload: { signature, authorization: Object.fromEntries(Object.entries(authorization).map(([k, v]) => [k, String(v)])) } };
        const response = await pay('/data', Buffer.from(JSON.stringify(payload)).toString('base64'));
        assert.equal(response.status, 402);
        assert.equal(decode<PaymentRequired>(response.headers.get('payment-required')).error, 'invalid_exact_evm_payload_authorization_valid_before');
      });

      test('v1 X-PAYMENT is accepted and answered with X-PAYMENT-RESPONSE', async () => {
        const v2 = JSON.parse(Buffer.from(await signedHeader('/v1'), 'base64').toString()) as PaymentPayload;
        const v1 = { x402Version: 1, scheme: 'exact', network: chain.network, payload: v2.payload };
        const response = await pay('/v1', Buffer.from(JSON.stringify(v1)).toString('base64'), 'x-payment');
        assert.equal(response.status, 200);
        assert.equal(decode<SettleResponse>(response.headers.get('x-payment-response')).success, true);
      });

      test('payment-identifier: same id and payload → the cached answer; another payload → 409', async () => {
        const id = `pay_${crypto.randomUUID().replaceAll('-', '')}`;
        const withId = async () => {
          const payload = JSON.parse(Buffer.from(await signedHeader('/idem'), 'base64').toString()) as PaymentPayload;
          payload.extensions = { 'payment-identifier': { info: { required: false, id } } };
          return Buffer.from(JSON.stringify(payload)).toString('base64');
        };
        const header = await withId();
        const first = await pay('/idem', header);
        assert.equal(first.status, 200);
        const body = await first.text();
        const again = await pay('/idem', header);
        assert.equal(again.status, 200);
        assert.equal(await again.text(), body);
        assert.equal(again.headers.get('x-tollgate-replayed'), 'true');
        assert.equal(decode<SettleResponse>(again.headers.get('payment-response')).transaction, decode<SettleResponse>(first.headers.get('payment-response')).transaction);
        assert.equal(upstream.hits.get(p('/idem')), 1);
        const other = await pay('/idem', await withId());
        assert.equal(other.status, 409);
        assert.equal(((await other.json()) as { code: string }).code, 'idempotency_conflict');
      });

      test('an upstream failure is not paid for; the same authorization may be used again', async () => {
        const payerBefore = await chain.tokenBalance(payer.address);
        const header = await signedHeader('/fail');
        assert.equal((await pay('/fail', header)).status, 502);
        assert.equal(await chain.tokenBalance(payer.address), payerBefore);
        assert.equal((await pay('/fail', header)).status, 502);
        assert.equal(upstream.hits.get(p('/fail')), 2);
      });

      test('settlement failure: no content is released and the audit says settlement failed, not insufficient funds', async () => {
        const victim = await chain.newAccount();
        await chain.mint(victim.address, PRICE_MICROS);
        const header = await signedHeader('/drain', victim);
        // Between verify and settle the payer moves its tokens away: the settlement reverts.
        upstream.onDrain = async () => {
          const hash = await chain.walletClient(victim).writeContract({ address: chain.token.address, abi: chain.token.abi, functionName: 'transfer', args: [chain.deployer.address, PRICE_MICROS] });
          await chain.publicClient.waitForTransactionReceipt({ hash });
        };
        const earned = await agreedEarnings();
        const response = await pay('/drain', header);
        upstream.onDrain = undefined;
        assert.equal(response.status, 402);
        const text = await response.text();
        assert.doesNotMatch(text, /content of/);
        assert.match(decode<PaymentRequired>(response.headers.get('payment-required')).error ?? '', /^settlement_failed: /);
        assert.equal(await earningsMicros(gw, SELLER), earned);
        const callId = response.headers.get('x-tollgate-call-id')!;
        const records = await gw.tg.audit.history(callId);
        assert.deepEqual(records.map((r) => r.errorCode), ['x402_settlement_failed']);
      });

      test('unknown settlement outcome: content withheld and recorded as unknown; once mined, the payment gets its answer once and the seller is paid once (on a retry, or reconciled in the background)', async () => {
        const header = await signedHeader('/later');
        const other = await signedHeader('/later2');
        const earned = await agreedEarnings();
        await chain.testClient.setAutomine(false);
        let answers: Response[];
        try {
          answers = await Promise.all([pay('/later', header), pay('/later2', other)]);
        } finally {
          await chain.testClient.setAutomine(true);
        }
        for (const response of answers) {
          assert.equal(response.status, 402);
          assert.doesNotMatch(await response.text(), /content of/);
          assert.equal(decode<PaymentRequired>(response.headers.get('payment-required')).error, 'settlement_pending');
          const records = await gw.tg.audit.history(response.headers.get('x-tollgate-call-id')!);
          assert.deepEqual(records.map((r) => r.errorCode), ['x402_settlement_unknown']);
        }
        assert.equal(await earningsMicros(gw, SELLER), earned);
        await chain.testClient.mine({ blocks: 1 });
        // The payer retries: the gateway reads the receipt, credits the seller and releases the answer.
        const retry = await pay('/later', header);
        assert.equal(retry.status, 200);
        assert.deepEqual(await retry.json(), { secret: `content of ${p('/later')}` });
        await eventually(async () => assert.equal(await earningsMicros(gw, SELLER), earned + PRICE_MICROS));
        // Nobody retries the other: a reconciliation (as at start-up) settles it from its receipt.
        const reconciler = new X402Seller({ tg: gw.tg, facilitator: new HTTPFacilitatorClient({ url: facilitatorServer.url }), receipts: receiptReader(chain.rpcUrl) });
        assert.deepEqual(await reconciler.reconcileUnknown(), { settled: 1, failed: 0, unknown: 0 });
        assert.equal(await earningsMicros(gw, SELLER), earned + 2n * PRICE_MICROS);
        const late = await pay('/later2', other);
        assert.equal(late.status, 200);
        assert.deepEqual(await late.json(), { secret: `content of ${p('/later2')}` });
        for (const [path, h] of [['/later', header], ['/later2', other]] as const) {
          assert.equal((await pay(path, h)).status, 402);
          assert.equal(upstream.hits.get(p(path)), 1);
        }
      });

      test('an unknown settlement retried through another service with the same payTo credits the seller it was paid to', async () => {
        const slug = `paid-other-${engine.kind}`;
        await gw.built.services.create({
          slug, kind: 'http', baseUrl: upstream.url, sellerId: 'sel_other', prices: [{ type: 'fixed', price: '0.25' }],
          metadata: { x402: { payTo: payTo.address, network: chain.network, asset: chain.token.address, name: chain.token.name, version: chain.token.version } },
        });
        const header = await signedHeader('/elsewhere');
        const earned = await agreedEarnings();
        await chain.testClient.setAutomine(false);
        try {
          assert.equal((await pay('/elsewhere', header)).status, 402);
        } finally {
          await chain.testClient.setAutomine(true);
        }
        await chain.testClient.mine({ blocks: 1 });
        await fetch(`${gw.url}/proxy/${slug}${p('/elsewhere')}`, { headers: { 'payment-signature': header } });
        await eventually(async () => assert.equal(await earningsMicros(gw, SELLER), earned + PRICE_MICROS));
        assert.equal(await earningsMicros(gw, 'sel_other'), 0n, 'the other service\'s seller was not paid');
      });

      test('MCP: PaymentRequired as a tool error, _meta x402/payment in, x402/payment-response out; a replay and a tool error are not paid', async () => {
        const client = new Client({ name: 'x402-agent', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp`)));
        try {
          const listed = await client.listTools();
          assert.ok(listed.tools.some((t) => t.name === 'paidmcp__echo'));
          const unpaid = (await client.callTool({ name: 'paidmcp__echo', arguments: { text: 'hi' } })) as CallToolResult;
          assert.equal(unpaid.isError, true);
          const required = unpaid.structuredContent as unknown as PaymentRequired;
          assert.equal(required.x402Version, 2);
          assert.equal(required.resource.url, 'mcp://tool/paidmcp__echo');
          assert.deepEqual(JSON.parse((unpaid.content[0] as { text: string }).text), required);
          const payerBefore = await chain.tokenBalance(payer.address);
          const earned = await agreedEarnings();
          const payment = await buyerClient(payer).createPaymentPayload(required);
          const paid = (await client.callTool({ name: 'paidmcp__echo', arguments: { text: 'hi' }, _meta: { 'x402/payment': payment } })) as CallToolResult;
          assert.equal(paid.isError, undefined);
          assert.deepEqual(paid.content, [{ type: 'text', text: 'hi' }]);
          const settled = paid._meta?.['x402/payment-response'] as SettleResponse;
          assert.equal(settled.success, true);
          assert.equal(await chain.tokenBalance(payer.address), payerBefore - PRICE_MICROS);
          await eventually(async () => assert.equal(await earningsMicros(gw, SELLER), earned + PRICE_MICROS));
          const replay = (await client.callTool({ name: 'paidmcp__echo', arguments: { text: 'hi' }, _meta: { 'x402/payment': payment } })) as CallToolResult;
          assert.equal(replay.isError, true);
          assert.equal((replay.structuredContent as { error?: string }).error, 'invalid_exact_evm_nonce_already_used');
          const failRequired = ((await client.callTool({ name: 'paidmcp__fail', arguments: {} })) as CallToolResult).structuredContent as unknown as PaymentRequired;
          const failed = (await client.callTool({ name: 'paidmcp__fail', arguments: {}, _meta: { 'x402/payment': await buyerClient(payer).createPaymentPayload(failRequired) } })) as CallToolResult;
          assert.equal(failed.isError, true);
          assert.equal(failed._meta?.['x402/payment-response'], undefined);
          assert.equal(await chain.tokenBalance(payer.address), payerBefore - PRICE_MICROS);
          const garbage = (await client.callTool({ name: 'paidmcp__echo', arguments: { text: 'hi' }, _meta: { 'x402/payment': { x402Version: 2, nonsense: true } } })) as CallToolResult;
          assert.equal(garbage.isError, true);
          assert.equal((garbage.structuredContent as { code?: string }).code, 'invalid_request');
        } finally {
          await client.close();
        }
      });

      test('earnings a crash left out are credited at the next start, once', async () => {
        let failing = true;
        const ledger = new Proxy(gw.tg.ledger, {
          get: (target, key) => {
            if ((key === 'createTransfers' || key === 'createTransfersWith') && failing) return async () => { throw new Error('ledger unreachable'); };
            const value = Reflect.get(target, key) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        const errors: unknown[] = [];
        const seller = new X402Seller({ tg: { ...gw.tg, ledger } as Tollgate, facilitator: new HTTPFacilitatorClient({ url: facilitatorServer.url }), onError: (e) => errors.push(e) });
        const settings = X402SettingsSchema.parse({ payTo: payTo.address, network: chain.network, asset: chain.token.address, name: chain.token.name, version: chain.token.version });
        const offer = makeOffer(settings, PRICE_MICROS, { url: 'http://local.test/direct' });
        const payment = await buyerClient(payer).createPaymentPayload(paymentRequired(offer, 'Payment required'));
        const earned = await agreedEarnings();
        const hold = await seller.authorize({ payment: { version: 2, payload: payment }, offer, service: { id: 'svc_paid', slug: 'paid', sellerId: SELLER }, tool: 'GET /direct', edge: 'http' });
        const settled = await seller.settle(hold, { answer: { status: 200, headers: {} } });
        assert.equal(errors.length, 1);
        assert.equal(await earningsMicros(gw, SELLER), earned);
        failing = false;
        assert.equal(await seller.recordMissingEarnings(), 1);
        assert.equal(await seller.recordMissingEarnings(), 0);
        assert.equal(await earningsMicros(gw, SELLER), earned + PRICE_MICROS);
        const record = (await gw.tg.audit.history(hold.id)).find((r) => r.outcome === 'captured');
        assert.match(record?.summary ?? '', new RegExp(settled.reference!));
      });

      test('bad payment headers are 4xx, never 5xx', async () => {
        const fixed = ['', '!!!', 'not base64 at all', Buffer.from('not json').toString('base64'), Buffer.from('{}').toString('base64'),
          Buffer.from('{"x402Version":2}').toString('base64'), Buffer.from('{"x402Version":2,"accepted":{},"payload":{}}').toString('base64'),
          Buffer.from('{"x402Version":1,"scheme":"exact","network":"eip155:1","payload":{"authorization":7}}').toString('base64'), 'A'.repeat(40_000)];
        for (const value of fixed) {
          const response = await pay('/data', value);
          assert.ok(response.status >= 400 && response.status < 500, `${JSON.stringify(value.slice(0, 40))} → ${response.status}`);
        }
        await fc.assert(fc.asyncProperty(fc.oneof(fc.string(), fc.base64String(), fc.json().map((j) => Buffer.from(j).toString('base64'))), async (value) => {
          const response = await pay('/data', value.replace(/[\r\n]/g, ''));
          await response.body?.cancel();
          return response.status >= 400 && response.status < 500;
        }), { numRuns: 60 });
        assert.equal(upstream.hits.get(p('/data')), 1);
      });
    });
  }
});
