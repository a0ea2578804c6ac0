/**
 * @module tokens/tokens
 * Bearer secrets: grant ("pay") tokens and seller/admin API keys. A token is
 * `<prefix><30 random base62 chars><6 base62 chars of CRC-32>`, e.g. `tg_live_4fQ…Zk01aB`.
 *
 * - The prefix says what the secret is and whether it is live or test money, so secret scanners
 *   (GitHub push protection, trufflehog) can match it with one regular expression and a leak can
 *   be routed to the right revocation.
 * - The checksum covers prefix and random part, so a typo or a truncated paste is refused before
 *   any database lookup (and scanners can drop false positives offline).
 * - Only `hashToken(token)` is stored. A SHA-256 without salt is enough here because the secret is
 *   178 random bits, not a password: nothing can be guessed, and the hash must be a lookup key.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BASE62_ALPHABET, CHECKSUM_LENGTH, checksumOf } from './checksum.ts';

/** What a secret authorizes. Closed set: each kind has its own prefixes, so one can't pass for another. */
export type TokenKind = 'grant' | 'seller_key' | 'admin_key';
/** Live secrets move real money; test secrets only ever touch test-mode balances. */
export type TokenMode = 'live' | 'test';

/** Prefix of every kind and mode. Grants keep the short `tg_live_`/`tg_test_` the agents see most. */
export const TOKEN_PREFIXES: Readonly<Record<TokenKind, Readonly<Record<TokenMode, string>>>> = {
  grant: { live: 'tg_live_', test: 'tg_test_' },
  seller_key: { live: 'tg_sk_live_', test: 'tg_sk_test_' },
  admin_key: { live: 'tg_ak_live_', test: 'tg_ak_test_' },
};

/** Random base62 characters per secret: 30 × log2(62) ≈ 178.6 bits, above the 160 we promise. */
export const TOKEN_RANDOM_LENGTH = 30;
/** Longest text `parseToken` looks at; anything longer is refused before any other work. */
export const TOKEN_LENGTH_MAX = 64;

const RANDOM_PART = /^[0-9A-Za-z]+$/;

export type ParsedToken =
  | { type: 'valid'; kind: TokenKind; mode: TokenMode; prefix: string }
  | { type: 'malformed'; problem: TokenProblem; reason: string };

export type TokenProblem = 'not_a_string' | 'too_long' | 'unknown_prefix' | 'wrong_kind' | 'bad_characters' | 'wrong_length' | 'checksum_mismatch';

/** Every (prefix, kind, mode), longest prefix first so `tg_sk_live_` is never read as something shorter. */
const PREFIX_TABLE = Object.entries(TOKEN_PREFIXES)
  .flatMap(([kind, modes]) => Object.entries(modes).map(([mode, prefix]) => ({ kind: kind as TokenKind, mode: mode as TokenMode, prefix })))
  .sort((a, b) => b.prefix.length - a.prefix.length);

/**
 * A new random secret of `kind` (default `grant`) in `mode`. Show it once; store `hashToken(it)`.
 * @example generateToken('test') // 'tg_test_…'
 */
export function generateToken(mode: TokenMode, kind: TokenKind = 'grant'): string {
  const body = TOKEN_PREFIXES[kind][mode] + randomBase62(TOKEN_RANDOM_LENGTH);
  return body + checksumOf(body);
}

/** `length` uniform base62 characters; bytes ≥ 248 are dropped so `% 62` has no bias. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue;
      out += BASE62_ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * Checks a token's shape, prefix, kind and checksum without touching storage. `expected` is the
 * kind the caller accepts (default `grant`): a seller key sent as a grant token is `wrong_kind`.
 * The reason never echoes the token, so it is safe to log and to return to the client.
 */
export function parseToken(text: unknown, expected: TokenKind = 'grant'): ParsedToken {
  if (typeof text !== 'string') return malformed('not_a_string', 'a token must be a string');
  if (text.length > TOKEN_LENGTH_MAX) return malformed('too_long', `a token has at most ${TOKEN_LENGTH_MAX} characters`);
  const entry = PREFIX_TABLE.find((p) => text.startsWith(p.prefix));
  if (!entry) return malformed('unknown_prefix', `a ${describeKind(expected)} starts with ${TOKEN_PREFIXES[expected].live} or ${TOKEN_PREFIXES[expected].test}`);
  if (entry.kind !== expected) return malformed('wrong_kind', `this is a ${describeKind(entry.kind)}, not a ${describeKind(expected)}`);
  const rest = text.slice(entry.prefix.length);
  if (rest.length > 0 && !RANDOM_PART.test(rest)) return malformed('bad_characters', 'after the prefix a token has only letters and digits');
  if (rest.length !== TOKEN_RANDOM_LENGTH + CHECKSUM_LENGTH) {
    return malformed('wrong_length', `a token has ${TOKEN_RANDOM_LENGTH + CHECKSUM_LENGTH} characters after its prefix (it may be cut off)`);
  }
  const body = text.slice(0, text.length - CHECKSUM_LENGTH);
  if (checksumOf(body) !== text.slice(-CHECKSUM_LENGTH)) return malformed('checksum_mismatch', 'the checksum does not match (a typo or a changed character)');
  return { type: 'valid', kind: entry.kind, mode: entry.mode, prefix: entry.prefix };
}

function malformed(problem: TokenProblem, reason: string): ParsedToken {
  return { type: 'malformed', problem, reason };
}

function describeKind(kind: TokenKind): string {
  return kind === 'grant' ? 'grant token' : kind === 'seller_key' ? 'seller API key' : 'admin API key';
}

/** SHA-256 of the token, lower-case hex: the only form a secret is stored in. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Whether `token` hashes to `storedHash`, compared in constant time so response timing reveals
 * nothing about how much of a hash matched. A stored value that is not a SHA-256 hex never matches.
 */
export function tokenMatches(token: string, storedHash: string): boolean {
  if (!HEX_SHA256.test(storedHash)) return false;
  return timingSafeEqual(Buffer.from(hashToken(token), 'hex'), Buffer.from(storedHash, 'hex'));
}

/** What a dashboard shows to tell secrets apart: prefix and last four, e.g. `tg_live_…aB3x`. */
export function tokenHint(token: string): string {
  const entry = PREFIX_TABLE.find((p) => token.startsWith(p.prefix));
  const prefix = entry ? entry.prefix : '';
  return `${prefix}…${token.slice(-4)}`;
}
