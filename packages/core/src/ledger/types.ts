/**
 * @module ledger/types
 * The ledger's vocabulary, in TigerBeetle's shape (docs/ledger.md states the guarantees):
 * accounts hold four balance columns and flags; transfers are immutable, move one amount from a
 * debit account to a credit account, and may be two-phase (pending → post ≤ amount, or void, or
 * expire). A transfer's id is its idempotency key. Amounts are bigint micro-units (or plain counts
 * on the limits ledger).
 */

/** Ledgers keep unlike things apart: only accounts on the same ledger transact. */
export const LEDGER = {
  /** Real money, in micro-units. */
  money: 1,
  /** Budget capacity (limits), in micro-units or call counts; never money. */
  limits: 2,
} as const;

export const ACCOUNT_FLAGS = {
  /** Refuse any transfer that makes debits_pending + debits_posted exceed credits_posted. */
  debitsMustNotExceedCredits: 2,
  /** Refuse any transfer that makes credits_pending + credits_posted exceed debits_posted. */
  creditsMustNotExceedDebits: 4,
  /** Refuse new transfers; posts and voids of holds placed before closing still resolve. */
  closed: 32,
} as const;

export const TRANSFER_FLAGS = {
  /** Chain this transfer to the next one in the same request: all succeed or none do. */
  linked: 1,
  /** A hold: reserves the amount in the pending columns until posted, voided or expired. */
  pending: 2,
  /** Resolves the pending transfer `pendingId` by posting `amount` (≤ held; omitted = all). */
  postPending: 4,
  /** Resolves the pending transfer `pendingId` by releasing all of it. */
  voidPending: 8,
  /** With `pending`: closes the debit account while the hold stands; voiding it reopens. */
  closingDebit: 64,
  /** With `pending`: closes the credit account while the hold stands; voiding it reopens. */
  closingCredit: 128,
} as const;

export interface AccountInput {
  /** Caller-chosen, deterministic where it names a scope (e.g. `user_month:u_1:2026-11`). */
  id: string;
  ledger: number;
  /** Account kind (wallet, earnings, a limit kind, …); positive. */
  code: number;
  currency: string;
  flags?: number;
  metadata?: Record<string, unknown>;
}

export interface Account extends Required<AccountInput> {
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
  /** Milliseconds since the epoch. */
  timestamp: bigint;
}

export interface TransferInput {
  id: string;
  /** Required unless this posts or voids a pending transfer (then inherited from it). */
  debitAccountId?: string;
  creditAccountId?: string;
  /** Required for single-phase and pending; on post, omitted means the whole hold; on void, omit or 0. */
  amount?: bigint;
  pendingId?: string;
  /** Pending only: seconds until the hold expires; 0 or omitted = never. */
  timeoutSeconds?: number;
  /** Defaults to the debit account's ledger. */
  ledger?: number;
  /** Why the money moved (a transfer kind); defaults to 1, inherited on post/void. */
  code?: number;
  flags?: number;
  metadata?: Record<string, unknown>;
}

export interface Transfer {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  pendingId: string | null;
  timeoutSeconds: number;
  ledger: number;
  code: number;
  flags: number;
  metadata: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  timestamp: bigint;
}

/** State of a pending transfer (a hold). */
export type PendingState = 'pending' | 'posted' | 'voided' | 'expired';

/**
 * Result of one transfer, in the order of precedence in which they are checked (docs/ledger.md has
 * the table). `created` and `exists` are successes; every other code means nothing was applied.
 * Zero amounts are legal (revocation closes a grant's account with one), so `amount_must_not_be_zero` is reserved and never
 * returned.
 */
export type TransferStatus =
  | 'created'
  | 'linked_event_failed'
  | 'linked_event_chain_open'
  | 'id_must_not_be_empty'
  | 'id_too_long'
  | 'reserved_flag'
  | 'flags_are_mutually_exclusive'
  | 'debit_account_id_must_not_be_empty'
  | 'credit_account_id_must_not_be_empty'
  | 'accounts_must_be_different'
  | 'pending_id_must_be_empty'
  | 'pending_id_must_not_be_empty'
  | 'pending_id_must_be_different'
  | 'timeout_reserved_for_pending_transfer'
  | 'timeout_invalid'
  | 'closing_transfer_must_be_pending'
  | 'amount_invalid'
  | 'amount_must_not_be_zero'
  | 'code_invalid'
  | 'exists_with_different_flags'
  | 'exists_with_different_pending_id'
  | 'exists_with_different_timeout'
  | 'exists_with_different_debit_account_id'
  | 'exists_with_different_credit_account_id'
  | 'exists_with_different_amount'
  | 'exists_with_different_metadata'
  | 'exists_with_different_ledger'
  | 'exists_with_different_code'
  | 'exists'
  | 'id_already_failed'
  | 'debit_account_not_found'
  | 'credit_account_not_found'
  | 'accounts_must_have_the_same_ledger'
  | 'accounts_must_have_the_same_currency'
  | 'transfer_must_have_the_same_ledger_as_accounts'
  | 'pending_transfer_not_found'
  | 'pending_transfer_not_pending'
  | 'pending_transfer_has_different_debit_account_id'
  | 'pending_transfer_has_different_credit_account_id'
  | 'pending_transfer_has_different_ledger'
  | 'pending_transfer_has_different_code'
  | 'exceeds_pending_transfer_amount'
  | 'pending_transfer_has_different_amount'
  | 'pending_transfer_already_posted'
  | 'pending_transfer_already_voided'
  | 'pending_transfer_expired'
  | 'debit_account_already_closed'
  | 'credit_account_already_closed'
  | 'overflows_debits'
  | 'overflows_credits'
  | 'exceeds_credits'
  | 'exceeds_debits';

export interface TransferResult {
  id: string;
  status: TransferStatus;
}

export type AccountStatus =
  | 'created'
  | 'exists'
  | 'id_must_not_be_empty'
  | 'id_too_long'
  | 'ledger_invalid'
  | 'code_invalid'
  | 'currency_invalid'
  | 'reserved_flag'
  | 'flags_are_mutually_exclusive'
  | 'exists_with_different_ledger'
  | 'exists_with_different_code'
  | 'exists_with_different_currency'
  | 'exists_with_different_flags'
  | 'exists_with_different_metadata';

export interface AccountResult {
  id: string;
  status: AccountStatus;
}

export interface TransferPage {
  transfers: Transfer[];
  /** Pass as `before` to get the next (older) page; absent on the last page. */
  next?: string;
}

export interface InvariantViolation {
  rule: string;
  detail: string;
}

export interface InvariantReport {
  ok: boolean;
  accounts: number;
  transfers: number;
  pendingHolds: number;
  violations: InvariantViolation[];
}

/**
 * A ledger store. Every store applies the same state machine, so each result and balance is what
 * applying the operations one at a time, in submission order, would give.
 */
export interface Ledger {
  createAccounts(accounts: readonly AccountInput[]): Promise<AccountResult[]>;
  /** One request: its linked chains succeed or fail together. At most TRANSFERS_PER_REQUEST_MAX. */
  createTransfers(transfers: readonly TransferInput[]): Promise<TransferResult[]>;
  lookupAccounts(ids: readonly string[]): Promise<Account[]>;
  lookupTransfers(ids: readonly string[]): Promise<Transfer[]>;
  /** State of holds by pending transfer id. */
  lookupPending(ids: readonly string[]): Promise<Map<string, PendingState>>;
  /** Transfers touching an account, newest first. */
  getAccountTransfers(accountId: string, options?: { limit?: number; before?: string }): Promise<TransferPage>;
  /** Releases up to `limit` holds whose timeout has passed; returns how many. */
  expirePending(limit?: number): Promise<number>;
  /** Double entry and flags, recomputed from the stored transfers. */
  check(): Promise<InvariantReport>;
  close(): Promise<void>;
}
