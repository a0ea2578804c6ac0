/**
 * @module ledger/metadata
 * User metadata on accounts and transfers: a plain JSON object, bounded in size, compared by its
 * canonical form. Postgres `jsonb` reorders keys, so an idempotent retry must compare canonically or
 * every retry after a reload would look like `exists_with_different_metadata`.
 */
import { TollgateError } from '../errors.ts';

/** Largest metadata object, in bytes of its JSON form. */
export const METADATA_BYTES_MAX = 4_096;

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

export function sameMetadata(a: Record<string, unknown> | undefined, b: Record<string, unknown>): boolean {
  return canonicalJson(a ?? {}) === canonicalJson(b);
}

/**
 * Refuses metadata that is not a plain JSON object or is too large. This is a malformed request
 * (thrown), not a ledger outcome (a result code), because no retry could ever make it valid.
 */
export function assertMetadata(metadata: unknown, field: string): void {
  if (metadata === undefined) return;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new TollgateError('invalid_request', `${field}: must be a JSON object`, { field });
  }
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch (error) {
    throw new TollgateError('invalid_request', `${field}: must be serializable as JSON`, { field }, { cause: error });
  }
  if (Buffer.byteLength(json) > METADATA_BYTES_MAX) {
    throw new TollgateError('invalid_request', `${field}: larger than ${METADATA_BYTES_MAX} bytes`, { field });
  }
}
