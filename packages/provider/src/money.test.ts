import { test } from 'node:test';
import assert from 'node:assert/strict';
import { microsToPrice, perUnit, priceToMicros } from './index.ts';

test('prices are integer micro-units: parse, print, per unit', () => {
  assert.equal(priceToMicros('0.015'), 15_000n);
  assert.equal(priceToMicros('12'), 12_000_000n);
  assert.equal(microsToPrice(15_000n), '0.015');
  assert.equal(microsToPrice(2_000_000n), '2.00');
  assert.equal(perUnit('0.001', 12), '0.012');
  assert.equal(perUnit('0.000001', 3), '0.000003');
  for (const bad of ['0.0000001', '1e-3', '-1', '', '.5', '01']) assert.throws(() => priceToMicros(bad), /price/);
  assert.throws(() => perUnit('0.01', -1), /units/);
  assert.throws(() => perUnit('0.01', 1.5), /units/);
});
