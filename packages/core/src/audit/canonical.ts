/**
 * @module audit/canonical
 * The exact bytes a record's hash covers. Canonical JSON, defined so any implementation can
 * recompute it:
 *  - objects: keys sorted by UTF-16 code units (JS default sort), no whitespace, keys whose value is
 *    `undefined` left out;
 *  - arrays: in order, `undefined` as `null`;
 *  - strings: `JSON.stringify` escaping;
 *  - bigints: decimal strings (`"2500000"`), so no amount passes through a float;
 *  - Dates: ISO-8601 UTC strings with milliseconds (`"2026-11-22T03:00:00.000Z"`);
 *  - numbers: finite only, `JSON.stringify` form; booleans and null as JSON.
 * The hashed object is the record in its stored (snake_case column) form, `hash` excluded and
 * `prev_hash` included: hash = lowercase hex SHA-256 of the UTF-8 canonical JSON.
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return `"${value.toString()}"`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`canonicalJson: ${value} is not a finite number`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new Error(`canonicalJson: cannot encode a ${typeof value}`);
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  // A plain loop: this runs for every appended record, on the writer's serial path.
  const object = value as Record<string, unknown>;
  let out = '{';
  for (const key of Object.keys(object).sort()) {
    const v = object[key];
    if (v === undefined || typeof v === 'function') continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/**
 * Makes free-form JSON (error data, policy trace) storable and stable: bigints and Dates become
 * strings, `undefined` disappears, and NUL characters (which Postgres text and jsonb refuse) become
 * U+FFFD. What is stored is then exactly what was hashed.
 */
export function jsonValue(value: unknown): unknown {
  return JSON.parse(canonicalJson(value), (_k, v) => (typeof v === 'string' ? cleanText(v) : v));
}

export function cleanText(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
