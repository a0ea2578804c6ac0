import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { TollgateError } from '@tollgate/core';
import { atomicAmount, makeOffer, paymentRequiredV1, x402SettingsOf } from './seller/index.ts';
import { decodeHeader, encodeHeader, paymentFromHeaders, WireError } from './wire.ts';

const SETTINGS = { payTo: '0x298c95d898798169c194c5ced525b76080c92f7d', network: 'eip155:8453', asset: '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', name: 'USD Coin', version: '2' };

describe('x402 wire format', () => {
  test('headers are standard base64 JSON; anything else is a WireError naming the header', () => {
    assert.deepEqual(decodeHeader(encodeHeader({ a: 'é' }), 'X'), { a: 'é' });
    for (const bad of ['', '%%%', 'abc', Buffer.from('not json').toString('base64'), 'A'.repeat(20_000)]) {
      assert.throws(() => decodeHeader(bad, 'PAYMENT-SIGNATURE'), (e: unknown) => e instanceof WireError && /^PAYMENT-SIGNATURE: /.test(e.message));
    }
  });

  test('PAYMENT-SIGNATURE wins over X-PAYMENT; versions other than 1 and 2 are refused', () => {
    const v2 = { x402Version: 2, accepted: { scheme: 'exact', network: 'eip155:8453', amount: '1', asset: '0x1', payTo: '0x2', maxTimeoutSeconds: 60, extra: {} }, payload: {} };
    const v1 = { x402Version: 1, scheme: 'exact', network: 'base', payload: {} };
    const both = new Headers({ 'payment-signature': encodeHeader(v2), 'x-payment': encodeHeader(v1) });
    assert.equal(paymentFromHeaders(both)?.version, 2);
    assert.equal(paymentFromHeaders(new Headers({ 'x-payment': encodeHeader(v1) }))?.version, 1);
    assert.equal(paymentFromHeaders(new Headers()), undefined);
    assert.throws(() => paymentFromHeaders(new Headers({ 'payment-signature': encodeHeader({ x402Version: 3 }) })), (e: unknown) => e instanceof WireError && e.reason === 'invalid_x402_version');
  });

  test('decoding never throws anything but a WireError', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.base64String(), fc.json().map((j) => Buffer.from(j).toString('base64'))), (value) => {
      try {
        paymentFromHeaders(new Headers({ 'payment-signature': value.replace(/[\r\n\0]/g, '') }));
        return true;
      } catch (error) {
        return error instanceof WireError;
      }
    }), { numRuns: 500 });
  });
});

describe('x402 service settings and offers', () => {
  test('a valid setting becomes an offer in base units; v1 body carries maxAmountRequired', () => {
    const settings = x402SettingsOf({ slug: 's', metadata: { x402: SETTINGS } })!;
    assert.equal(settings.payTo, '0x298c95d898798169c194c5ced525B76080c92F7d');
    const offer = makeOffer(settings, 10_000n, { url: 'https://t.example/proxy/s/q' });
    assert.equal(offer.requirements.amount, '10000');
    assert.deepEqual(offer.requirements.extra, { name: 'USD Coin', version: '2' });
    assert.equal((paymentRequiredV1(offer, 'x').accepts as { maxAmountRequired: string }[])[0]?.maxAmountRequired, '10000');
    assert.equal(atomicAmount(10_000n, 18), 10_000_000_000_000_000n);
    assert.equal(x402SettingsOf({ slug: 's', metadata: {} }), undefined);
  });

  test('an invalid setting is a refusal naming the field', () => {
    assert.throws(() => x402SettingsOf({ slug: 's', metadata: { x402: { ...SETTINGS, payTo: 'nope' } } }), (e: unknown) => e instanceof TollgateError && e.code === 'conflict' && e.data.field === 'metadata.x402.payTo');
    assert.throws(() => x402SettingsOf({ slug: 's', metadata: { x402: { ...SETTINGS, network: 'solana:1' } } }), (e: unknown) => e instanceof TollgateError && e.data.field === 'metadata.x402.network');
  });
});
