import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from './index.ts';
import { csvField } from './index.ts';

test('canonical JSON sorts keys at every depth, writes bigints as strings and drops undefined', () => {
  const value = { b: 1, a: { d: [3n, undefined, 'x'], c: null }, e: undefined, f: new Date('2026-11-22T03:00:00Z'), g: true };
  assert.equal(canonicalJson(value), '{"a":{"c":null,"d":["3",null,"x"]},"b":1,"f":"2026-11-22T03:00:00.000Z","g":true}');
  assert.equal(canonicalJson({ amount: 2_500_000n }), canonicalJson({ amount: '2500000' }));
  assert.throws(() => canonicalJson({ x: Number.NaN }));
});

test('CSV fields: commas, quotes and newlines are quoted; formulas are defused', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('line1\nline2'), '"line1\nline2"');
  assert.equal(csvField('a\r\nb'), '"a\r\nb"');
  assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvField('-5', false), '-5');
  assert.equal(csvField(null), '');
});
