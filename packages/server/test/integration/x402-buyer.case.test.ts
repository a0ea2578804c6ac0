/**
 * x402 buyer side, end to end: an upstream behind the reference @x402/hono middleware answers 402;
 * Tollgate pays it from its own key on the local chain, only inside the agent's grant (the route's
 * price is the hold; caps and policy apply), and records the payment and the receipt with the call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertTollgateHealthy, testDatabases } from '@tollgate/core/testing';
import { LocalFacilitator, serveFacilitator, type FacilitatorServer } from '@tollgate/rails';
import { startLocalChain, startReferenceSeller, type LocalChain, type ReferenceSeller, type TestAccount } from '@tollgate/rails/testing';
import { eventually, startGateway, type Gateway } from './harness.ts';

const ASKED_MICROS = 20_000n;

describe('x402 buyer side on a local chain', () => {
  let chain: LocalChain;
  let facilitatorServer: FacilitatorServer;
  let reference: ReferenceSeller;
  let payTo: TestAccount;

  before(async () => {
    chain = await startLocalChain();
    payTo = await chain.newAccount();
    facilitatorServer = await serveFacilitator(new LocalFacilitator({ publicClient: chain.publicClient, walletClient: chain.walletClient(chain.accounts[0]!) }));
    reference = await startReferenceSeller({ chain, facilitatorUrl: facilitatorServer.url, payTo: payTo.address, amount: ASKED_MICROS });
  });
  after(async () => {
    await reference?.close();
    await facilitatorServer?.close();
    await chain?.stop();
  });

  for (const engine of testDatabases) {
    describe(`on ${engine.kind}`, { skip: engine.skip }, () => {
      let gw: Gateway;
      let wallet: TestAccount;
      let token: string;
      let userId: string;

      before(async () => {
        wallet = await chain.newAccount();
        await chain.mint(wallet.address, 1_000_000n);
        gw = await startGateway(engine, { x402WalletKey: wallet.privateKey, logLevel: 'silent' }, { defaultService: false });
        const service = { kind: 'http' as const, baseUrl: reference.url, sellerId: 'sel_x402_wallet', metadata: { payUpstream: ['x402'] } };
        await gw.built.services.create({ slug: 'ref', ...service, prices: [{ type: 'fixed', price: '0.05' }] });
        await gw.built.services.create({ slug: 'ref-cheap', ...service, prices: [{ type: 'fixed', price: '0.01' }] });
        await gw.built.services.create({ slug: 'ref-unpaid', kind: 'http', baseUrl: reference.url, sellerId: 'sel_x402_wallet', prices: [{ type: 'fixed', price: '0.05' }] });
        const buyer = await gw.buyer({ funds: '1.00' });
        userId = buyer.userId;
        token = await gw.grant(buyer, { totalCap: '0.50', perCallCap: '0.10' });
      });
      after(async () => {
        if (gw) await assertTollgateHealthy(gw.tg);
        await gw?.close();
      });

      const call = (slug: string, bearer = token) => fetch(`${gw.url}/proxy/${slug}/paid`, { headers: { authorization: `Bearer ${bearer}` } });

      test('pays the upstream inside the grant: the asked price is captured, the receipt and tx are recorded with the call', async () => {
        const onChain = await chain.tokenBalance(wallet.address);
        const received = await chain.tokenBalance(payTo.address);
        const servedBefore = reference.served();
        const response = await call('ref');
        assert.equal(response.status, 200);
        assert.deepEqual(((await response.json()) as { paid: boolean }).paid, true);
        assert.equal(response.headers.get('x-tollgate-charge'), '0.02');
        assert.equal(response.headers.get('x-tollgate-remaining'), '0.48');
        assert.equal(await chain.tokenBalance(wallet.address), onChain - ASKED_MICROS);
        assert.equal(await chain.tokenBalance(payTo.address), received + ASKED_MICROS);
        assert.equal(reference.served(), servedBefore + 1);
        assert.equal((await gw.tg.wallets.balance(userId)).availableMicros, 1_000_000n - ASKED_MICROS);
        const record = (await gw.tg.audit.history(response.headers.get('x-tollgate-call-id')!)).find((r) => r.outcome === 'captured');
        assert.equal(record?.capturedMicros, ASKED_MICROS);
        assert.match(record?.summary ?? '', new RegExp(`paid the upstream 0.02 with x402 to ${payTo.address}, tx 0x[0-9a-f]{64}`));
      });

      test('the price above the hold is not paid; a per-call cap refuses before anything is paid', async () => {
        const onChain = await chain.tokenBalance(wallet.address);
        const cheap = await call('ref-cheap');
        assert.equal(cheap.status, 402);
        const problem = (await cheap.json()) as { code: string; limit: string };
        assert.deepEqual([problem.code, problem.limit], ['budget_exceeded', 'hold']);
        const capped = await gw.grant({ userId } as never, { totalCap: '0.50', perCallCap: '0.03' });
        const refused = await call('ref', capped);
        assert.equal(refused.status, 402);
        assert.equal(((await refused.json()) as { code: string }).code, 'budget_exceeded');
        assert.equal(await chain.tokenBalance(wallet.address), onChain);
      });

      test('a service that does not allow paying its upstream passes the 402 through, uncharged', async () => {
        const onChain = await chain.tokenBalance(wallet.address);
        const available = (await gw.tg.wallets.balance(userId)).availableMicros;
        const response = await call('ref-unpaid');
        assert.equal(response.status, 402);
        assert.ok(response.headers.get('payment-required'));
        assert.equal(response.headers.get('x-tollgate-charge'), '0.00');
        await response.text();
        // The call settles when its body has been delivered.
        await eventually(async () => assert.equal((await gw.tg.wallets.balance(userId)).heldMicros, 0n));
        assert.equal(await chain.tokenBalance(wallet.address), onChain);
        assert.equal((await gw.tg.wallets.balance(userId)).availableMicros, available);
      });
    });
  }
});
