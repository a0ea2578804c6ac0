/**
 * @module tokens
 * Grant tokens and API keys: generate, check offline, hash for storage, compare in constant time.
 */
export {
  generateToken,
  parseToken,
  hashToken,
  tokenMatches,
  tokenHint,
  TOKEN_PREFIXES,
  TOKEN_RANDOM_LENGTH,
  TOKEN_LENGTH_MAX,
  type TokenKind,
  type TokenMode,
  type ParsedToken,
  type TokenProblem,
} from './tokens.ts';
export { crc32, checksumOf } from './checksum.ts';
