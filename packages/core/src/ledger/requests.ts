/**
 * @module ledger/requests
 * Shape checks on what a caller hands a store, shared by every store. A malformed request (not an
 * array, too many events, metadata that is not a JSON object, a bad cursor) is a programming error
 * on the caller's side and throws `invalid_request`; everything else is answered with result codes.
 */
import { LEDGER_BATCH_SIZE_MAX, PAGE_SIZE_MAX, TRANSFERS_PER_REQUEST_MAX } from '../constants.ts';
import { TollgateError } from '../errors.ts';
import { assertMetadata } from './metadata.ts';
import type { AccountInput, TransferInput } from './types.ts';

/** Most accounts one `createAccounts` request may carry (a request must fit in one batch). */
export const ACCOUNTS_PER_REQUEST_MAX = LEDGER_BATCH_SIZE_MAX;
/** Page size of `getAccountTransfers` when the caller gives none. */
export const PAGE_SIZE_DEFAULT = 100;

function assertList(value: unknown, field: string, max: number): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw new TollgateError('invalid_request', `${field}: must be an array`, { field });
  if (value.length > max) throw new TollgateError('invalid_request', `${field}: at most ${max} per request (got ${value.length})`, { field, max });
  value.forEach((item, i) => {
    if (item === null || typeof item !== 'object') throw new TollgateError('invalid_request', `${field}[${i}]: must be an object`, { field });
  });
}

/**
 * Copies a request so a caller that mutates its objects after submitting cannot change what the
 * writer applies. Shallow per event (every field but metadata is a primitive); metadata is copied
 * only when present, which is cheaper on the hot path than `structuredClone` of the whole request.
 */
export function copyEvents<T extends { metadata?: Record<string, unknown> }>(events: readonly T[]): T[] {
  return events.map((e) => (e.metadata === undefined ? { ...e } : { ...e, metadata: structuredClone(e.metadata) }));
}

export function assertTransfersRequest(transfers: readonly TransferInput[]): void {
  assertList(transfers, 'transfers', TRANSFERS_PER_REQUEST_MAX);
  transfers.forEach((t, i) => assertMetadata(t.metadata, `transfers[${i}].metadata`));
}

export function assertAccountsRequest(accounts: readonly AccountInput[]): void {
  assertList(accounts, 'accounts', ACCOUNTS_PER_REQUEST_MAX);
  accounts.forEach((a, i) => assertMetadata(a.metadata, `accounts[${i}].metadata`));
}

export function assertIds(ids: readonly string[], field: string): void {
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
    throw new TollgateError('invalid_request', `${field}: must be an array of strings`, { field });
  }
  if (ids.length > PAGE_SIZE_MAX) throw new TollgateError('invalid_request', `${field}: at most ${PAGE_SIZE_MAX} ids`, { field, max: PAGE_SIZE_MAX });
}

/** The page size to use; refuses anything outside 1..PAGE_SIZE_MAX. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return PAGE_SIZE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_SIZE_MAX) {
    throw new TollgateError('invalid_request', `limit: must be an integer from 1 to ${PAGE_SIZE_MAX}`, { field: 'limit' });
  }
  return limit;
}

/** How many holds one `expirePending` call may release; bounded so it fits one batch. */
export function expireLimit(limit: number | undefined): number {
  if (limit === undefined) return LEDGER_BATCH_SIZE_MAX;
  if (!Number.isInteger(limit) || limit < 1 || limit > LEDGER_BATCH_SIZE_MAX) {
    throw new TollgateError('invalid_request', `limit: must be an integer from 1 to ${LEDGER_BATCH_SIZE_MAX}`, { field: 'limit' });
  }
  return limit;
}

/** Cursors are opaque to callers: a transfer's position in the store's history, base64url-encoded. */
export function encodeCursor(seq: bigint): string {
  return Buffer.from(`s:${seq}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): bigint | undefined {
  if (cursor === undefined) return undefined;
  const text = typeof cursor === 'string' ? Buffer.from(cursor, 'base64url').toString() : '';
  const match = /^s:(\d{1,19})$/.exec(text);
  if (!match) throw new TollgateError('invalid_request', 'before: not a cursor from a previous page', { field: 'before' });
  return BigInt(match[1]!);
}
