/**
 * @module ledger/validate
 * Checks that need no state: the first codes in the precedence table (docs/ledger.md). A transfer or
 * account that fails here is refused whatever the ledger holds, so these checks run before the
 * idempotency lookup, as in TigerBeetle.
 */
import { AMOUNT_MICROS_MAX, HOLD_TIMEOUT_SECONDS_MAX, ID_LENGTH_MAX } from '../constants.ts';
import { ACCOUNT_FLAGS, TRANSFER_FLAGS, type AccountInput, type AccountStatus, type TransferInput, type TransferStatus } from './types.ts';

/** Ledger, code and flags are stored as Postgres `integer`. */
export const INT32_MAX = 2 ** 31 - 1;
const CURRENCY = /^[A-Z][A-Z0-9]{2,9}$/;

const TRANSFER_FLAGS_KNOWN = Object.values(TRANSFER_FLAGS).reduce((a, b) => a | b, 0);
const ACCOUNT_FLAGS_KNOWN = Object.values(ACCOUNT_FLAGS).reduce((a, b) => a | b, 0);
const RESOLVING = TRANSFER_FLAGS.postPending | TRANSFER_FLAGS.voidPending;
const CLOSING = TRANSFER_FLAGS.closingDebit | TRANSFER_FLAGS.closingCredit;

function positiveInt32(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= INT32_MAX;
}

function flagBits(flags: unknown): number {
  return flags === undefined ? 0 : (flags as number);
}

function validFlagValue(flags: unknown, known: number): boolean {
  return typeof flags === 'number' && Number.isInteger(flags) && flags >= 0 && flags <= INT32_MAX && (flags & ~known) === 0;
}

/** Whether a transfer posts or voids a hold (its accounts and code come from the hold). */
export function isResolving(flags: number): boolean {
  return (flags & RESOLVING) !== 0;
}

function validateIdAndFlags(t: TransferInput): TransferStatus | undefined {
  if (typeof t.id !== 'string' || t.id === '') return 'id_must_not_be_empty';
  if (t.id.length > ID_LENGTH_MAX) return 'id_too_long';
  const flags = flagBits(t.flags);
  if (!validFlagValue(flags, TRANSFER_FLAGS_KNOWN)) return 'reserved_flag';
  const kinds = [TRANSFER_FLAGS.pending, TRANSFER_FLAGS.postPending, TRANSFER_FLAGS.voidPending].filter((f) => flags & f).length;
  if (kinds > 1) return 'flags_are_mutually_exclusive';
  return undefined;
}

function validateAccountsAndPending(t: TransferInput, resolving: boolean): TransferStatus | undefined {
  if (!resolving && !t.debitAccountId) return 'debit_account_id_must_not_be_empty';
  if (!resolving && !t.creditAccountId) return 'credit_account_id_must_not_be_empty';
  if (t.debitAccountId && t.creditAccountId && t.debitAccountId === t.creditAccountId) return 'accounts_must_be_different';
  if (!resolving && t.pendingId) return 'pending_id_must_be_empty';
  if (resolving && !t.pendingId) return 'pending_id_must_not_be_empty';
  if (resolving && t.pendingId === t.id) return 'pending_id_must_be_different';
  return undefined;
}

function validateTimeoutAmountCode(t: TransferInput, flags: number, resolving: boolean): TransferStatus | undefined {
  const timeout = t.timeoutSeconds ?? 0;
  if (!(flags & TRANSFER_FLAGS.pending) && timeout !== 0) return 'timeout_reserved_for_pending_transfer';
  if (!Number.isInteger(timeout) || timeout < 0 || timeout > HOLD_TIMEOUT_SECONDS_MAX) return 'timeout_invalid';
  if (flags & CLOSING && !(flags & TRANSFER_FLAGS.pending)) return 'closing_transfer_must_be_pending';
  if (t.amount === undefined) {
    if (!resolving) return 'amount_invalid';
  } else if (typeof t.amount !== 'bigint' || t.amount < 0n || t.amount > AMOUNT_MICROS_MAX) {
    return 'amount_invalid';
  }
  if (t.code !== undefined && !positiveInt32(t.code)) return 'code_invalid';
  return undefined;
}

/** The stateless checks of one transfer, in precedence order; undefined when it passes. */
export function validateTransfer(t: TransferInput): TransferStatus | undefined {
  const first = validateIdAndFlags(t);
  if (first) return first;
  const flags = flagBits(t.flags);
  const resolving = isResolving(flags);
  return validateAccountsAndPending(t, resolving) ?? validateTimeoutAmountCode(t, flags, resolving);
}

/** The stateless checks of one account, in precedence order; undefined when it passes. */
export function validateAccount(a: AccountInput): AccountStatus | undefined {
  if (typeof a.id !== 'string' || a.id === '') return 'id_must_not_be_empty';
  if (a.id.length > ID_LENGTH_MAX) return 'id_too_long';
  if (!positiveInt32(a.ledger)) return 'ledger_invalid';
  if (!positiveInt32(a.code)) return 'code_invalid';
  if (typeof a.currency !== 'string' || !CURRENCY.test(a.currency)) return 'currency_invalid';
  const flags = flagBits(a.flags);
  if (!validFlagValue(flags, ACCOUNT_FLAGS_KNOWN)) return 'reserved_flag';
  const both = ACCOUNT_FLAGS.debitsMustNotExceedCredits | ACCOUNT_FLAGS.creditsMustNotExceedDebits;
  if ((flags & both) === both) return 'flags_are_mutually_exclusive';
  return undefined;
}
