import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatMicros, parseMicros, assertMicros } from './money.ts';
import { AMOUNT_MICROS_MAX } from './constants.ts';
import { TollgateError } from './errors.ts';

test('parses decimal strings exactly', () => {
  assert.equal(parseMicros('0.001'), 1_000n);
  assert.equal(parseMicros('5.00'), 5_000_000n);
  assert.equal(parseMicros('12'), 12_000_000n);
  assert.equal(parseMicros('0.000001'), 1n);
  assert.equal(parseMicros('1000000000'), AMOUNT_MICROS_MAX);
});

test('formats micro-units back exactly', () => {
  assert.equal(formatMicros(1_000n), '0.001');
  assert.equal(formatMicros(5_000_000n), '5.00');
  assert.equal(formatMicros(1n), '0.000001');
  assert.equal(formatMicros(-1_500_000n), '-1.50');
});

test('refuses floats, NaN, exponents, signs, excess decimals and overflow, naming the field', () => {
  const bad: unknown[] = [0.1, Number.NaN, 1, '1e3', '-1', '+1', '0.0000001', '1,5', '', ' ', '01', '.5', '5.', 'abc', '1000000000.000001', '99999999999999999999', null, undefined, 5n];
  for (const input of bad) {
    assert.throws(
      () => parseMicros(input, { field: 'price' }),
      (error: unknown) => error instanceof TollgateError && error.code === 'invalid_amount' && error.message.startsWith('price: '),
      `should refuse ${String(input)}`,
    );
  }
  assert.throws(() => parseMicros('0', { allowZero: false }), /greater than zero/);
  assert.throws(() => assertMicros(-1n), /negative/);
  assert.throws(() => assertMicros(AMOUNT_MICROS_MAX + 1n), /maximum/);
  assert.throws(() => assertMicros(1), /bigint/);
});

test('parse ∘ format is the identity on every valid amount', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: AMOUNT_MICROS_MAX }), (micros) => {
      assert.equal(parseMicros(formatMicros(micros)), micros);
    }),
  );
});
