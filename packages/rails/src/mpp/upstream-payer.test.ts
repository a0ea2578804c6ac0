/**
 * Tollgate paying an MPP upstream: the payer answers an `evm`/`charge` challenge from its own key
 * with mppx's client, within the hold and only in a token it knows, and reads the provider's
 * `Payment-Receipt` back. The upstream is a real MPP seller on the local chain.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TollgateError } from '@tollgate/core';
import { startLocalChain, type LocalChain, type TestAccount } from '../chain/index.ts';
import { payOverHttp } from './http.ts';
import { mppRig, testOffer, type MppRig } from './testing.ts';
import { MppPayer } from './upstream-payer.ts';

describe('MPP upstream payer', () => {
  let chain: LocalChain;
  let rig: MppRig;
  let wallet: TestAccount;
  let payer: MppPayer;
  const offer = testOffer({ amountMicros: 25_000n, intents: ['charge', 'session'] });
  const upstream = (request: Request) => payOverHttp(rig.seller, request, offer, async () => Response.json({ answer: 42 }));

  before(async () => {
    chain = await startLocalChain();
    rig = await mppRig(chain, undefined);
    wallet = await chain.newAccount();
    await chain.mint(wallet.address, 1_000_000n);
    payer = new MppPayer({ privateKey: wallet.privateKey, tokens: [{ chainId: chain.chainId, address: chain.token.address, name: chain.token.name, version: chain.token.version }] });
  });
  after(() => chain.stop());

  async function challenge(): Promise<{ url: string; headers: Headers; body: unknown }> {
    const response = await upstream(new Request('http://upstream.test/q'));
    assert.equal(response.status, 402);
    return { url: 'http://upstream.test/q', headers: response.headers, body: await response.json() };
  }

  test('pays the charge challenge within the hold; the retry is served and its receipt says settled', async () => {
    const payment = await payer.pay(await challenge(), 30_000n);
    assert.ok(payment);
    assert.equal(payment.rail, 'mpp');
    assert.equal(payment.amountMicros, 25_000n);
    assert.equal(payment.details.payTo, rig.server.address);
    const paid = await upstream(new Request('http://upstream.test/q', { headers: payment.headers }));
    assert.equal(paid.status, 200);
    assert.deepEqual(await paid.json(), { answer: 42 });
    const receipt = payer.receipt(paid.headers);
    assert.equal(receipt?.settled, true);
    assert.match(receipt!.reference!, /^0x[0-9a-f]{64}$/);
    assert.equal(await chain.tokenBalance(wallet.address), 1_000_000n - 25_000n);
  });

  test('more than the hold: budget_exceeded and nothing signed; not an MPP challenge or an unknown token: not ours', async () => {
    await assert.rejects(payer.pay(await challenge(), 24_999n), (error: unknown) => error instanceof TollgateError && error.code === 'budget_exceeded');
    assert.equal(await payer.pay({ url: 'x', headers: new Headers({ 'payment-required': 'e30=' }), body: {} }, 1_000_000n), undefined);
    assert.equal(await payer.pay({ url: 'x', headers: new Headers({ 'www-authenticate': 'Payment garbage' }), body: undefined }, 1_000_000n), undefined);
    const stranger = new MppPayer({ privateKey: wallet.privateKey, tokens: [{ chainId: 1, address: chain.token.address, name: 'USD Coin', version: '2' }] });
    assert.equal(await stranger.pay(await challenge(), 1_000_000n), undefined);
    assert.equal(payer.receipt(new Headers()), undefined);
    assert.equal(payer.receipt(new Headers({ 'payment-receipt': '%%%' }))?.settled, false);
  });
});
