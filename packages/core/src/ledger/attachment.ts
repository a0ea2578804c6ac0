/**
 * @module ledger/attachment
 * Rows that must commit with a request's transfers or not at all. The guard's call record and audit
 * record ride in the same transaction as the holds and posts they describe, so a paid call costs one
 * durable commit per step instead of several, and no crash can leave a hold without its record.
 */
import type { Queryable } from '../db/db.ts';
import type { Account, TransferInput, TransferResult } from './types.ts';

/** Writes the attachments of one batch; one writer instance per kind of row. */
export interface AttachmentWriter<T, R> {
  /**
   * Runs inside the batch's transaction after the ledger decided every request, with the entries in
   * submission order; returns one answer per entry. Throwing fails the batch, which the writer then
   * bisects until the request that caused it fails alone. Its statements are pipelined behind the
   * ledger's write and other writers' (the server runs them in the order sent, so they see the
   * write); issuing the first one before the first `await` keeps it in the same round trip.
   */
  write(tx: Queryable, entries: readonly AttachedEntry<T>[]): Promise<R[]>;
}

export interface AttachedEntry<T> {
  item: T;
  /** The request's own transfer results (the attachment decides what a failed request writes). */
  results: readonly TransferResult[];
  /** An account the batch touched, with its balances as the batch commits them. */
  account(id: string): Account | undefined;
}

export interface Attachment<T, R> {
  writer: AttachmentWriter<T, R>;
  item: T;
  /** Accounts whose committed balances the caller wants back (e.g. what a grant has left). */
  report?: readonly string[];
}

export interface AttachedResult<R> {
  results: TransferResult[];
  answer: R;
  /** The `report` accounts the batch touched, as committed. */
  accounts: ReadonlyMap<string, Account>;
}

/** A ledger whose transfer requests can carry an attachment (the SQL store). */
export interface AttachingLedger {
  createTransfersWith<T, R>(transfers: readonly TransferInput[], attachment: Attachment<T, R>): Promise<AttachedResult<R>>;
}
