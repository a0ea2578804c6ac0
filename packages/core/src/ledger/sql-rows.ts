/**
 * @module ledger/sql-rows
 * Reading ledger rows: the column lists, row → object mapping, and the loads a batch starts with.
 * Every query uses an unnamed statement (pg's default; PGlite has no other kind), so each execution
 * is planned with its real parameters and a generic plan frozen on an empty table can never stick
 * (reference/groupcommit.md, pitfall 5).
 */
import type { Queryable } from '../db/db.ts';
import type { Hold, LedgerState } from './state-machine.ts';
import type { Account, PendingState, Transfer, TransferStatus } from './types.ts';

export const ACCOUNT_COLUMNS =
  'id, ledger, code, currency, flags, metadata, debits_pending, debits_posted, credits_pending, credits_posted, timestamp_ms';
export const TRANSFER_COLUMNS =
  'seq, id, debit_account_id, credit_account_id, amount, pending_id, timeout_seconds, ledger, code, flags, metadata, timestamp_ms';
export const HOLD_COLUMNS = 'id, debit_account_id, credit_account_id, amount, flags, expires_at_ms, state';

export interface AccountRow {
  id: string;
  ledger: number;
  code: number;
  currency: string;
  flags: number;
  metadata: Record<string, unknown>;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  timestamp_ms: bigint;
}

export interface TransferRow {
  seq: bigint;
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  pending_id: string | null;
  timeout_seconds: number;
  ledger: number;
  code: number;
  flags: number;
  metadata: Record<string, unknown>;
  timestamp_ms: bigint;
}

export interface HoldRow {
  id: string;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  flags: number;
  expires_at_ms: bigint | null;
  state: PendingState;
}

export function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    ledger: r.ledger,
    code: r.code,
    currency: r.currency,
    flags: r.flags,
    metadata: r.metadata,
    debitsPending: r.debits_pending,
    debitsPosted: r.debits_posted,
    creditsPending: r.credits_pending,
    creditsPosted: r.credits_posted,
    timestamp: r.timestamp_ms,
  };
}

export function toTransfer(r: TransferRow): Transfer {
  return {
    id: r.id,
    debitAccountId: r.debit_account_id,
    creditAccountId: r.credit_account_id,
    amount: r.amount,
    pendingId: r.pending_id,
    timeoutSeconds: r.timeout_seconds,
    ledger: r.ledger,
    code: r.code,
    flags: r.flags,
    metadata: r.metadata,
    timestamp: r.timestamp_ms,
  };
}

export function toHold(r: HoldRow): Hold {
  return {
    id: r.id,
    debitAccountId: r.debit_account_id,
    creditAccountId: r.credit_account_id,
    amount: r.amount,
    flags: r.flags,
    expiresAtMs: r.expires_at_ms,
    state: r.state,
  };
}

/** What one batch refers to: the rows it must see (and lock) before the state machine runs. */
export interface BatchKeys {
  transferIds: Set<string>;
  pendingIds: Set<string>;
  accountIds: Set<string>;
  /** Holds to consider for expiry (sum of the batch's expire limits), 0 for none. */
  expireLimit: number;
}

/**
 * Loads and locks a batch's rows. Lock order is the same in every process: holds by id, then expiry
 * candidates (SKIP LOCKED, so never a wait), then accounts by id; nobody holding an account lock ever
 * waits for a hold lock, so two writers cannot deadlock. Transfers and failed ids are read last,
 * under those locks: a writer in another process that created one of them on the same accounts has
 * committed by then, so a retry racing its original answers `exists`, as one-at-a-time would.
 */
export async function loadBatch(tx: Queryable, keys: BatchKeys, nowMs: bigint): Promise<{ state: LedgerState; expiryCandidates: string[] }> {
  const state: LedgerState = { accounts: new Map(), transfers: new Map(), holds: new Map(), failed: new Map() };
  const accountIds = new Set(keys.accountIds);
  const addHold = (r: HoldRow) => {
    state.holds.set(r.id, toHold(r));
    accountIds.add(r.debit_account_id).add(r.credit_account_id);
  };
  const pendingIds = [...keys.pendingIds];
  if (keys.expireLimit > 0) {
    // The sweeper's candidates are known only once locked (SKIP LOCKED), so its accounts are read after them.
    if (pendingIds.length > 0) (await lockHolds(tx, pendingIds)).forEach(addHold);
    const expiryCandidates = await lockExpiryCandidates(tx, keys.expireLimit, nowMs, state, addHold);
    const [accounts, transfers] = await Promise.all([lockAccounts(tx, [...accountIds], []), readTransfers(tx, keys)]);
    return { state: fill(state, accounts, transfers), expiryCandidates };
  }
  // One round trip: holds, then their accounts with the others (in that lock order), then the transfers.
  const [holds, accounts, transfers] = await Promise.all([
    pendingIds.length > 0 ? lockHolds(tx, pendingIds) : [],
    lockAccounts(tx, [...accountIds], pendingIds),
    readTransfers(tx, keys),
  ]);
  holds.forEach(addHold);
  return { state: fill(state, accounts, transfers), expiryCandidates: [] };
}

type TransferOrFailedRow = TransferRow & { failed_status: TransferStatus | null };

function fill(state: LedgerState, accounts: readonly AccountRow[], transfers: readonly TransferOrFailedRow[]): LedgerState {
  for (const r of accounts) state.accounts.set(r.id, toAccount(r));
  for (const r of transfers) {
    if (r.failed_status !== null) state.failed.set(r.id, r.failed_status);
    else state.transfers.set(r.id, toTransfer(r));
  }
  return state;
}

function lockHolds(tx: Queryable, ids: readonly string[]): Promise<HoldRow[]> {
  return tx.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM ledger_pending WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [ids]);
}

/** The accounts named, and both accounts of each hold in `holdIds` (locked just before, in the same transaction). */
function lockAccounts(tx: Queryable, ids: readonly string[], holdIds: readonly string[]): Promise<AccountRow[]> {
  if (ids.length === 0 && holdIds.length === 0) return Promise.resolve([]);
  return tx.query<AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts
     WHERE id = ANY($1::text[] || ARRAY(SELECT unnest(ARRAY[debit_account_id, credit_account_id]) FROM ledger_pending WHERE id = ANY($2::text[])))
     ORDER BY id FOR NO KEY UPDATE`,
    [ids, holdIds],
  );
}

function readTransfers(tx: Queryable, keys: BatchKeys): Promise<TransferOrFailedRow[]> {
  if (keys.transferIds.size === 0) return Promise.resolve([]);
  return tx.query<TransferOrFailedRow>(
    `SELECT ${TRANSFER_COLUMNS}, NULL::text AS failed_status FROM ledger_transfers WHERE id = ANY($1::text[])
     UNION ALL
     SELECT NULL, id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, status FROM ledger_failed_transfers WHERE id = ANY($1::text[])`,
    [[...keys.transferIds]],
  );
}

/** Due holds, oldest expiry first; holds another writer has locked are skipped, never waited for. */
async function lockExpiryCandidates(tx: Queryable, limit: number, nowMs: bigint, state: LedgerState, addHold: (r: HoldRow) => void): Promise<string[]> {
  const rows = await tx.query<HoldRow>(
    `SELECT ${HOLD_COLUMNS} FROM ledger_pending
     WHERE state = 'pending' AND expires_at_ms IS NOT NULL AND expires_at_ms <= $1
     ORDER BY expires_at_ms, id COLLATE "C" LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [nowMs.toString(), limit],
  );
  for (const r of rows) if (!state.holds.has(r.id)) addHold(r);
  return rows.map((r) => r.id);
}
