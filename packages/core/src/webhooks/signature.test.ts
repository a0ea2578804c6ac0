import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signWebhook, verifyWebhookSignature } from './index.ts';

const secret = 'whsec_test_secret_0123456789';
const body = JSON.stringify({ id: 'evt_1', type: 'approval.created', data: { price: '2.50' } });
const t = 1_790_000_000;

test('a signature made with the secret verifies', () => {
  const header = signWebhook(secret, body, t);
  assert.match(header, /^t=1790000000,v1=[0-9a-f]{64}$/);
  assert.deepEqual(verifyWebhookSignature(secret, header, body, 300, { nowSeconds: t + 10 }), { ok: true, timestampSeconds: t });
});

test('tampering with the body, the timestamp or the secret is refused', () => {
  const header = signWebhook(secret, body, t);
  const check = (h: string, b = body, s = secret) => verifyWebhookSignature(s, h, b, 300, { nowSeconds: t });
  assert.deepEqual(check(header, body.replace('2.50', '0.01')), { ok: false, why: 'mismatch' });
  assert.deepEqual(check(header, `${body} `), { ok: false, why: 'mismatch' });
  assert.deepEqual(check(header.replace(`t=${t}`, `t=${t + 1}`)), { ok: false, why: 'mismatch' });
  assert.deepEqual(check(header, body, 'whsec_other_secret_000000'), { ok: false, why: 'mismatch' });
  const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
  assert.deepEqual(check(flipped), { ok: false, why: 'mismatch' });
});

test('stale and future timestamps are refused', () => {
  const header = signWebhook(secret, body, t);
  assert.deepEqual(verifyWebhookSignature(secret, header, body, 300, { nowSeconds: t + 301 }), { ok: false, why: 'stale' });
  assert.deepEqual(verifyWebhookSignature(secret, header, body, 300, { nowSeconds: t - 301 }), { ok: false, why: 'stale' });
});

test('malformed headers are refused without throwing', () => {
  for (const header of [undefined, null, '', 'v1=abc', `t=${t}`, `t=abc,v1=${'0'.repeat(64)}`, `t=${t},v1=${'z'.repeat(64)}`, 'x'.repeat(3000)]) {
    assert.deepEqual(verifyWebhookSignature(secret, header, body, 300, { nowSeconds: t }), { ok: false, why: 'malformed' });
  }
});

test('during secret rotation any listed v1 may match', () => {
  const oldSig = signWebhook('whsec_old_secret_0000000000', body, t).split('v1=')[1];
  const header = `${signWebhook(secret, body, t)},v1=${oldSig}`;
  assert.equal(verifyWebhookSignature('whsec_old_secret_0000000000', header, body, 300, { nowSeconds: t }).ok, true);
  assert.equal(verifyWebhookSignature(secret, header, body, 300, { nowSeconds: t }).ok, true);
});
