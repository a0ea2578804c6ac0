/**
 * @module tokens/checksum
 * CRC-32 (IEEE 802.3, the zlib polynomial) and fixed-width base62. A token's last six characters
 * are the base62 CRC-32 of everything before them, so a scanner or the server can reject a typo or
 * a random look-alike string without a database lookup. CRC-32 is a typo check, not a MAC: the
 * secret's strength comes from its random part alone.
 */

export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Base62 digits needed for any 32-bit value: 62^6 ≈ 5.7e10 > 2^32. */
export const CHECKSUM_LENGTH = 6;

// Built once at load: 256 entries of the reflected polynomial 0xEDB88320.
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 of the UTF-8 bytes of `text`, as an unsigned 32-bit number. */
export function crc32(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Encodes a non-negative integer as exactly `width` base62 digits, left-padded with `0`. */
export function toBase62(value: number, width: number): string {
  let rest = value;
  let out = '';
  for (let i = 0; i < width; i++) {
    out = BASE62_ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  if (rest !== 0) throw new Error(`toBase62: ${value} does not fit in ${width} digits`);
  return out;
}

/** The six-character checksum of a token's body (prefix and random part). */
export function checksumOf(body: string): string {
  return toBase62(crc32(body), CHECKSUM_LENGTH);
}
