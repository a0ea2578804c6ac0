/**
 * @module guard/attachments
 * What the guard writes inside the ledger's own batches (ledger/attachment.ts), so a call costs
 * two durable commits (hold, settle) instead of six:
 *
 *   hold   → the call's row, `authorized`, with what settle needs;
 *   settle → the call's final state and its hash-chained audit record.
 *
 * A request whose transfers failed writes nothing here: the guard records its refusal on its own.
 */
import type { Account, AttachmentWriter, TransferResult } from '../ledger/index.ts';
import type { AuthorizedCall, CallStore, FinishedCall } from './call-store.ts';
import type { AuditPort, PreparedCallRecord } from './ports.ts';

const SUCCESS = new Set(['created', 'exists']);

/** Whether every transfer of a request succeeded (or had already, for a replay). */
export const allOk = (results: readonly TransferResult[]) => results.every((r) => SUCCESS.has(r.status));

/** What a grant has left, from its total account as the batch committed it. */
export function remainingOf(account: Account | undefined): bigint {
  return account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0n;
}

/** Hold batches: the rows of calls whose hold succeeded; `true` when this request owns the call. */
export function authorizedRows(calls: CallStore): AttachmentWriter<AuthorizedCall, boolean> {
  return {
    async write(tx, entries) {
      const held = entries.filter((e) => allOk(e.results));
      const written = held.length > 0 ? await calls.insertAuthorized(tx, held.map((e) => e.item)) : [];
      const byEntry = new Map(held.map((e, i) => [e, written[i]!]));
      return entries.map((e) => byEntry.get(e) ?? false);
    },
  };
}

export interface SettledCall {
  call: FinishedCall;
  /** The grant's total account, whose committed balance becomes the call's `remainingMicros`. */
  grantAccountId: string;
  record: PreparedCallRecord;
}

/**
 * Settle batches: the calls' final states, then their audit records (the audit head is locked last,
 * after the ledger's rows and the calls'; both statements leave in one round trip). `true` when this settle finished the call; a settle that
 * lost the race to another writes no record.
 */
export function settledRows(calls: CallStore, audit: AuditPort): AttachmentWriter<SettledCall, boolean> {
  return {
    async write(tx, entries) {
      const posted = entries.filter((e) => allOk(e.results));
      if (posted.length === 0) return entries.map(() => false);
      // Sent together, in lock order (calls, then the audit head): one round trip for both.
      const finishing = calls.finishIn(tx, posted.map((e) => ({ ...e.item.call, result: { ...e.item.call.result, remainingMicros: remainingOf(e.account(e.item.grantAccountId)) } })));
      const records = finishing.then((finished) => posted.filter((_, i) => finished[i]).map((e) => e.item.record));
      const [finished] = await Promise.all([finishing, audit.appendIn(tx, records)]);
      const byEntry = new Map(posted.map((e, i) => [e, finished[i]!]));
      return entries.map((e) => byEntry.get(e) ?? false);
    },
  };
}
