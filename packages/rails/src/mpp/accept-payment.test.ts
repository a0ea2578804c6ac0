import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byPreference, parseAcceptPayment } from './accept-payment.ts';

const offered = [{ method: 'evm', intent: 'charge' }, { method: 'evm', intent: 'session' }];
const order = (header: string | null) => byPreference(offered, header).map((o) => o.intent);

test('Accept-Payment filters and orders challenges; malformed or unmatched headers are ignored', () => {
  assert.deepEqual(order(null), ['charge', 'session']);
  assert.deepEqual(order('evm/session'), ['session']);
  assert.deepEqual(order('evm/*;q=0.5, evm/session'), ['session', 'charge']);
  assert.deepEqual(order('evm/*, evm/session;q=0'), ['charge'], 'the most specific range decides');
  assert.deepEqual(order('evm/charge;q=0.2, evm/session;q=0.2'), ['charge', 'session'], "ties keep the server's order");
  assert.deepEqual(order('tempo/charge'), ['charge', 'session'], 'nothing matches: every challenge');
  assert.deepEqual(order('evm/charge;q=2'), ['charge', 'session'], 'malformed: ignored');
  assert.equal(parseAcceptPayment('EVM/charge'), undefined, 'methods are lower-case');
  assert.equal(parseAcceptPayment(`evm/charge,${'x'.repeat(2000)}`), undefined);
  assert.deepEqual(parseAcceptPayment('*/*;q=0.5'), [{ method: '*', intent: '*', q: 0.5 }]);
});
