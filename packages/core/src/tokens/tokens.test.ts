import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checksumOf, crc32, generateToken, hashToken, parseToken, tokenHint, tokenMatches, TOKEN_PREFIXES, TOKEN_RANDOM_LENGTH } from './index.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

test('crc32 matches the standard check value', () => {
  assert.equal(crc32('123456789'), 0xcbf43926);
  assert.equal(crc32(''), 0);
});

test('generates prefixed, checksummed tokens of every kind and mode', () => {
  for (const kind of ['grant', 'seller_key', 'admin_key'] as const) {
    for (const mode of ['live', 'test'] as const) {
      const token = generateToken(mode, kind);
      const prefix = TOKEN_PREFIXES[kind][mode];
      assert.ok(token.startsWith(prefix));
      assert.match(token.slice(prefix.length), /^[0-9A-Za-z]{36}$/);
      assert.deepEqual(parseToken(token, kind), { type: 'valid', kind, mode, prefix });
    }
  }
  assert.ok(generateToken('live').startsWith('tg_live_'), 'grant is the default kind');
});

test('tokens carry at least 160 random bits and do not repeat', () => {
  assert.ok(TOKEN_RANDOM_LENGTH * Math.log2(62) >= 160);
  const seen = new Set(Array.from({ length: 2_000 }, () => generateToken('live')));
  assert.equal(seen.size, 2_000);
});

test('random characters are spread over the whole alphabet', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 2_000; i++) {
    for (const c of generateToken('test').slice(8, 8 + TOKEN_RANDOM_LENGTH)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(counts.size, 62);
  // 60,000 characters over 62 symbols: ~968 each; a biased generator would be far off.
  for (const n of counts.values()) assert.ok(n > 750 && n < 1_200, `count ${n}`);
});

test('malformed tokens say why, without echoing the token', () => {
  const good = generateToken('live');
  const cases: Array<[unknown, string]> = [
    [42, 'not_a_string'],
    ['x'.repeat(65), 'too_long'],
    ['', 'unknown_prefix'],
    ['ghp_abc', 'unknown_prefix'],
    [generateToken('live', 'seller_key'), 'wrong_kind'],
    [`tg_live_${'a'.repeat(35)}!`, 'bad_characters'],
    [good.slice(0, -1), 'wrong_length'],
    [`${good}a`, 'wrong_length'],
    [`tg_test_${good.slice(8)}`, 'checksum_mismatch'],
  ];
  for (const [input, problem] of cases) {
    const parsed = parseToken(input);
    assert.equal(parsed.type, 'malformed', String(input));
    if (parsed.type === 'malformed') {
      assert.equal(parsed.problem, problem, String(input));
      assert.ok(parsed.reason.length > 0);
      if (typeof input === 'string' && input.length > 10) assert.ok(!parsed.reason.includes(input.slice(8)));
    }
  }
});

test('fuzz: any single-character change or adjacent swap of a valid token is caught', () => {
  fc.assert(
    fc.property(fc.constantFrom('live', 'test'), fc.nat(), fc.nat(61), (mode: 'live' | 'test', at, shift) => {
      const token = generateToken(mode);
      const i = 8 + (at % (token.length - 8));
      const replaced = BASE62[(BASE62.indexOf(token[i]!) + 1 + shift) % 62]!;
      const typo = token.slice(0, i) + replaced + token.slice(i + 1);
      if (typo !== token) assert.equal(parseToken(typo).type, 'malformed');
      const j = Math.min(i, token.length - 2);
      const swapped = token.slice(0, j) + token[j + 1] + token[j] + token.slice(j + 2);
      if (swapped !== token) assert.equal(parseToken(swapped).type, 'malformed');
    }),
    { numRuns: 2_000 },
  );
});

test('fuzz: arbitrary strings never throw and are almost never valid', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.stringMatching(/^tg_(live|test)_[0-9A-Za-z]{36}$/)), (text) => {
      const parsed = parseToken(text);
      // A random 36-character tail passes the CRC-32 with probability 2^-32; treat a pass as a checksum we computed.
      if (parsed.type === 'valid') assert.equal(checksumOf(text.slice(0, -6)), text.slice(-6));
      else assert.ok(parsed.reason.length > 0);
    }),
    { numRuns: 3_000 },
  );
});

test('hashes are SHA-256 hex and compare in constant time', () => {
  const token = generateToken('live');
  const hash = hashToken(token);
  assert.match(hash, /^[0-9a-f]{64}$/);
  assert.equal(hash, hashToken(token));
  assert.equal(tokenMatches(token, hash), true);
  assert.equal(tokenMatches(generateToken('live'), hash), false);
  assert.equal(tokenMatches(token, hash.toUpperCase()), false, 'a stored value that is not lower-case hex never matches');
  assert.equal(tokenMatches(token, 'short'), false);
});

test('the hint shows the prefix and the last four characters only', () => {
  const token = generateToken('test', 'admin_key');
  assert.equal(tokenHint(token), `tg_ak_test_…${token.slice(-4)}`);
  assert.equal(tokenHint('tg_live_abcdef'), 'tg_live_…cdef');
});
