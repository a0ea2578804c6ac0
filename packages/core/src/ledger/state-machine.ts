/**
 * @module ledger/state-machine
 * The one implementation of the ledger's rules, shared by every store. It runs over a `LedgerState`
 * (maps of accounts, transfers, holds and failed ids) that is either the whole ledger (memory store)
 * or exactly the rows a batch touches, loaded and locked (SQL store). Events apply one at a time in
 * order, so a batch gives the same results as one-at-a-time submission.
 *
 * Every change goes through a journal: a linked chain that fails is rolled back to its start, and a
 * store writes back only what the journal says changed.
 */
import { BALANCE_MICROS_MAX } from '../constants.ts';
import { sameMetadata } from './metadata.ts';
import {
  ACCOUNT_FLAGS,
  TRANSFER_FLAGS,
  type Account,
  type AccountInput,
  type AccountResult,
  type AccountStatus,
  type PendingState,
  type Transfer,
  type TransferInput,
  type TransferResult,
  type TransferStatus,
} from './types.ts';
import { isResolving, validateAccount, validateTransfer } from './validate.ts';

/** The mutable state of one hold. `expiresAtMs` is null for a hold without timeout. */
export interface Hold {
  id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: bigint;
  flags: number;
  expiresAtMs: bigint | null;
  state: PendingState;
}

export interface LedgerState {
  accounts: Map<string, Account>;
  transfers: Map<string, Transfer>;
  holds: Map<string, Hold>;
  /** Ids that failed for a transient reason, with that reason. */
  failed: Map<string, TransferStatus>;
}

export function emptyLedgerState(): LedgerState {
  return { accounts: new Map(), transfers: new Map(), holds: new Map(), failed: new Map() };
}

/** What a batch changed, for a store to write back. */
export interface Changes {
  accountsCreated: Account[];
  accountsUpdated: Account[];
  /** In the order they were created. */
  transfers: Transfer[];
  /** Holds created by the batch, in their final state. */
  holdsCreated: Hold[];
  /** Holds that existed before the batch and changed state in it. */
  holdsUpdated: Hold[];
  failed: { id: string; status: TransferStatus }[];
}

type Table = keyof LedgerState;
interface JournalEntry {
  table: Table;
  key: string;
  /** The value before the change; undefined when the key was absent. */
  prev: unknown;
}

/** Failures that depend on the ledger's state: the id stays failed so a retry cannot succeed later. */
const TRANSIENT: ReadonlySet<TransferStatus> = new Set<TransferStatus>([
  'debit_account_not_found',
  'credit_account_not_found',
  'pending_transfer_not_found',
  'exceeds_credits',
  'exceeds_debits',
  'debit_account_already_closed',
  'credit_account_already_closed',
]);

export function isTransient(status: TransferStatus): boolean {
  return TRANSIENT.has(status);
}

export function isSuccess(status: TransferStatus | AccountStatus): boolean {
  return status === 'created' || status === 'exists';
}

/** Whether a hold can no longer be posted or voided at `nowMs`. */
export function holdExpired(hold: Hold, nowMs: bigint): boolean {
  return hold.state === 'expired' || (hold.state === 'pending' && hold.expiresAtMs !== null && nowMs >= hold.expiresAtMs);
}

export class StateMachine {
  readonly #state: LedgerState;
  readonly #nowMs: bigint;
  #journal: JournalEntry[] = [];

  constructor(state: LedgerState, nowMs: bigint) {
    this.#state = state;
    this.#nowMs = nowMs;
  }

  #set<T extends Table>(table: T, key: string, value: LedgerState[T] extends Map<string, infer V> ? V : never): void {
    const map = this.#state[table] as Map<string, unknown>;
    this.#journal.push({ table, key, prev: map.get(key) });
    map.set(key, value);
  }

  #rollback(mark: number): void {
    while (this.#journal.length > mark) {
      const entry = this.#journal.pop()!;
      const map = this.#state[entry.table] as Map<string, unknown>;
      if (entry.prev === undefined) map.delete(entry.key);
      else map.set(entry.key, entry.prev);
    }
  }

  createAccounts(inputs: readonly AccountInput[]): AccountResult[] {
    return inputs.map((input) => ({ id: input.id, status: this.#createAccount(input) }));
  }

  #createAccount(a: AccountInput): AccountStatus {
    const invalid = validateAccount(a);
    if (invalid) return invalid;
    const existing = this.#state.accounts.get(a.id);
    if (existing) {
      if (existing.ledger !== a.ledger) return 'exists_with_different_ledger';
      if (existing.code !== a.code) return 'exists_with_different_code';
      if (existing.currency !== a.currency) return 'exists_with_different_currency';
      if (existing.flags !== (a.flags ?? 0)) return 'exists_with_different_flags';
      if (!sameMetadata(a.metadata, existing.metadata)) return 'exists_with_different_metadata';
      return 'exists';
    }
    this.#set('accounts', a.id, {
      id: a.id,
      ledger: a.ledger,
      code: a.code,
      currency: a.currency,
      flags: a.flags ?? 0,
      metadata: a.metadata ?? {},
      debitsPending: 0n,
      debitsPosted: 0n,
      creditsPending: 0n,
      creditsPosted: 0n,
      timestamp: this.#nowMs,
    });
    return 'created';
  }

  /** Applies one request; linked chains succeed or fail together. */
  createTransfers(inputs: readonly TransferInput[]): TransferResult[] {
    const statuses: TransferStatus[] = [];
    let chainStart = -1;
    let chainMark = 0;
    let failedAt = -1;
    inputs.forEach((t, i) => {
      const linked = ((t.flags ?? 0) & TRANSFER_FLAGS.linked) !== 0;
      if (chainStart < 0 && linked) {
        chainStart = i;
        chainMark = this.#journal.length;
        failedAt = -1;
      }
      if (chainStart >= 0 && failedAt >= 0) {
        statuses.push('linked_event_failed');
      } else {
        const status = linked && i === inputs.length - 1 ? 'linked_event_chain_open' : this.#transfer(t);
        statuses.push(status);
        if (!isSuccess(status) && chainStart >= 0) {
          failedAt = i;
          this.#rollback(chainMark);
        }
        if (isTransient(status)) this.#set('failed', t.id, status);
      }
      if (chainStart >= 0 && (!linked || i === inputs.length - 1)) {
        if (failedAt >= 0) for (let j = chainStart; j <= i; j += 1) if (j !== failedAt) statuses[j] = 'linked_event_failed';
        chainStart = -1;
      }
    });
    return inputs.map((t, i) => ({ id: t.id, status: statuses[i]! }));
  }

  #transfer(t: TransferInput): TransferStatus {
    const invalid = validateTransfer(t);
    if (invalid) return invalid;
    const existing = this.#state.transfers.get(t.id);
    if (existing) return this.#compareExisting(t, existing);
    if (this.#state.failed.has(t.id)) return 'id_already_failed';
    return isResolving(t.flags ?? 0) ? this.#resolve(t) : this.#createNew(t);
  }

  /** Idempotency: the same id again is `exists` only if every field the caller gave matches. */
  #compareExisting(t: TransferInput, e: Transfer): TransferStatus {
    const flags = t.flags ?? 0;
    const resolving = isResolving(e.flags);
    if (flags !== e.flags) return 'exists_with_different_flags';
    if ((t.pendingId || null) !== e.pendingId) return 'exists_with_different_pending_id';
    if ((t.timeoutSeconds ?? 0) !== e.timeoutSeconds) return 'exists_with_different_timeout';
    if (t.debitAccountId && t.debitAccountId !== e.debitAccountId) return 'exists_with_different_debit_account_id';
    if (t.creditAccountId && t.creditAccountId !== e.creditAccountId) return 'exists_with_different_credit_account_id';
    if (!this.#sameAmount(t, e)) return 'exists_with_different_amount';
    if (!sameMetadata(t.metadata, e.metadata)) return 'exists_with_different_metadata';
    if (t.ledger !== undefined && t.ledger !== e.ledger) return 'exists_with_different_ledger';
    if ((t.code ?? (resolving ? e.code : 1)) !== e.code) return 'exists_with_different_code';
    return 'exists';
  }

  #sameAmount(t: TransferInput, e: Transfer): boolean {
    if (e.flags & TRANSFER_FLAGS.postPending) {
      // An omitted amount posted the whole hold: it matches only if the hold's amount was posted.
      if (t.amount !== undefined) return t.amount === e.amount;
      return this.#state.transfers.get(e.pendingId!)?.amount === e.amount;
    }
    if (e.flags & TRANSFER_FLAGS.voidPending) return t.amount === undefined || t.amount === 0n || t.amount === e.amount;
    return t.amount === e.amount;
  }

  #resolveChecks(t: TransferInput, p: Transfer | undefined): TransferStatus | undefined {
    if (!p) return 'pending_transfer_not_found';
    if (!(p.flags & TRANSFER_FLAGS.pending)) return 'pending_transfer_not_pending';
    if (t.debitAccountId && t.debitAccountId !== p.debitAccountId) return 'pending_transfer_has_different_debit_account_id';
    if (t.creditAccountId && t.creditAccountId !== p.creditAccountId) return 'pending_transfer_has_different_credit_account_id';
    if (t.ledger !== undefined && t.ledger !== p.ledger) return 'pending_transfer_has_different_ledger';
    if (t.code !== undefined && t.code !== p.code) return 'pending_transfer_has_different_code';
    const post = ((t.flags ?? 0) & TRANSFER_FLAGS.postPending) !== 0;
    if (post && t.amount !== undefined && t.amount > p.amount) return 'exceeds_pending_transfer_amount';
    if (!post && t.amount !== undefined && t.amount !== 0n && t.amount !== p.amount) return 'pending_transfer_has_different_amount';
    const hold = this.#state.holds.get(p.id);
    if (!hold) throw new Error(`ledger: pending transfer ${p.id} has no hold state`);
    if (hold.state === 'posted') return 'pending_transfer_already_posted';
    if (hold.state === 'voided') return 'pending_transfer_already_voided';
    if (holdExpired(hold, this.#nowMs)) return 'pending_transfer_expired';
    return undefined;
  }

  /** Posts (≤ the held amount; omitted = all) or voids a hold. Closed accounts do not block this. */
  #resolve(t: TransferInput): TransferStatus {
    const p = this.#state.transfers.get(t.pendingId!);
    const refused = this.#resolveChecks(t, p);
    if (refused || !p) return refused ?? 'pending_transfer_not_found';
    const hold = this.#state.holds.get(p.id)!;
    const post = ((t.flags ?? 0) & TRANSFER_FLAGS.postPending) !== 0;
    const amount = post ? (t.amount ?? p.amount) : p.amount;
    this.#release(hold, post ? 'posted' : 'voided', post ? amount : 0n);
    this.#set('transfers', t.id, {
      id: t.id,
      debitAccountId: p.debitAccountId,
      creditAccountId: p.creditAccountId,
      amount,
      pendingId: p.id,
      timeoutSeconds: 0,
      ledger: p.ledger,
      code: p.code,
      flags: t.flags ?? 0,
      metadata: t.metadata ?? {},
      timestamp: this.#nowMs,
    });
    return 'created';
  }

  /** Moves a hold out of the pending columns, posting `postedAmount` of it; a void or expiry reopens closed accounts. */
  #release(hold: Hold, state: PendingState, postedAmount: bigint): void {
    const dr = this.#state.accounts.get(hold.debitAccountId);
    const cr = this.#state.accounts.get(hold.creditAccountId);
    if (!dr || !cr) throw new Error(`ledger: accounts of hold ${hold.id} were not loaded`);
    const reopen = state !== 'posted';
    const drClosing = reopen && (hold.flags & TRANSFER_FLAGS.closingDebit) !== 0;
    const crClosing = reopen && (hold.flags & TRANSFER_FLAGS.closingCredit) !== 0;
    this.#set('accounts', dr.id, {
      ...dr,
      debitsPending: dr.debitsPending - hold.amount,
      debitsPosted: dr.debitsPosted + postedAmount,
      flags: drClosing ? dr.flags & ~ACCOUNT_FLAGS.closed : dr.flags,
    });
    this.#set('accounts', cr.id, {
      ...cr,
      creditsPending: cr.creditsPending - hold.amount,
      creditsPosted: cr.creditsPosted + postedAmount,
      flags: crClosing ? cr.flags & ~ACCOUNT_FLAGS.closed : cr.flags,
    });
    this.#set('holds', hold.id, { ...hold, state });
  }

  #newTransferChecks(t: TransferInput, dr: Account | undefined, cr: Account | undefined): TransferStatus | undefined {
    if (!dr) return 'debit_account_not_found';
    if (!cr) return 'credit_account_not_found';
    if (dr.ledger !== cr.ledger) return 'accounts_must_have_the_same_ledger';
    if (dr.currency !== cr.currency) return 'accounts_must_have_the_same_currency';
    if (t.ledger !== undefined && t.ledger !== dr.ledger) return 'transfer_must_have_the_same_ledger_as_accounts';
    if (dr.flags & ACCOUNT_FLAGS.closed) return 'debit_account_already_closed';
    if (cr.flags & ACCOUNT_FLAGS.closed) return 'credit_account_already_closed';
    const amount = t.amount!;
    const debits = dr.debitsPending + dr.debitsPosted + amount;
    const credits = cr.creditsPending + cr.creditsPosted + amount;
    if (debits > BALANCE_MICROS_MAX) return 'overflows_debits';
    if (credits > BALANCE_MICROS_MAX) return 'overflows_credits';
    if (dr.flags & ACCOUNT_FLAGS.debitsMustNotExceedCredits && debits > dr.creditsPosted) return 'exceeds_credits';
    if (cr.flags & ACCOUNT_FLAGS.creditsMustNotExceedDebits && credits > cr.debitsPosted) return 'exceeds_debits';
    return undefined;
  }

  /** A single-phase transfer or a new hold. */
  #createNew(t: TransferInput): TransferStatus {
    const dr = this.#state.accounts.get(t.debitAccountId!);
    const cr = this.#state.accounts.get(t.creditAccountId!);
    const refused = this.#newTransferChecks(t, dr, cr);
    if (refused || !dr || !cr) return refused ?? 'debit_account_not_found';
    const flags = t.flags ?? 0;
    const amount = t.amount!;
    const pending = (flags & TRANSFER_FLAGS.pending) !== 0;
    const timeoutSeconds = t.timeoutSeconds ?? 0;
    this.#set('accounts', dr.id, {
      ...dr,
      ...(pending ? { debitsPending: dr.debitsPending + amount } : { debitsPosted: dr.debitsPosted + amount }),
      flags: flags & TRANSFER_FLAGS.closingDebit ? dr.flags | ACCOUNT_FLAGS.closed : dr.flags,
    });
    this.#set('accounts', cr.id, {
      ...cr,
      ...(pending ? { creditsPending: cr.creditsPending + amount } : { creditsPosted: cr.creditsPosted + amount }),
      flags: flags & TRANSFER_FLAGS.closingCredit ? cr.flags | ACCOUNT_FLAGS.closed : cr.flags,
    });
    const transfer: Transfer = {
      id: t.id,
      debitAccountId: dr.id,
      creditAccountId: cr.id,
      amount,
      pendingId: null,
      timeoutSeconds,
      ledger: dr.ledger,
      code: t.code ?? 1,
      flags,
      metadata: t.metadata ?? {},
      timestamp: this.#nowMs,
    };
    this.#set('transfers', t.id, transfer);
    if (pending) {
      const expiresAtMs = timeoutSeconds > 0 ? this.#nowMs + BigInt(timeoutSeconds) * 1000n : null;
      this.#set('holds', t.id, { id: t.id, debitAccountId: dr.id, creditAccountId: cr.id, amount, flags, expiresAtMs, state: 'pending' });
    }
    return 'created';
  }

  /**
   * Expires up to `limit` holds among `candidateIds` (oldest expiry first) whose timeout has passed:
   * their amounts leave the pending columns and closing holds reopen their accounts.
   */
  expire(candidateIds: readonly string[], limit: number): number {
    let expired = 0;
    for (const id of candidateIds) {
      if (expired >= limit) break;
      const hold = this.#state.holds.get(id);
      if (!hold || hold.state !== 'pending' || hold.expiresAtMs === null || hold.expiresAtMs > this.#nowMs) continue;
      this.#release(hold, 'expired', 0n);
      expired += 1;
    }
    return expired;
  }

  /** What the journal says changed since this machine was created (or since `reset`). */
  changes(): Changes {
    const first = new Map<string, JournalEntry>();
    const transfers: Transfer[] = [];
    for (const entry of this.#journal) {
      const key = `${entry.table}\u0000${entry.key}`;
      if (!first.has(key)) first.set(key, entry);
    }
    const out: Changes = { accountsCreated: [], accountsUpdated: [], transfers, holdsCreated: [], holdsUpdated: [], failed: [] };
    for (const entry of first.values()) {
      if (entry.table === 'accounts') {
        const account = this.#state.accounts.get(entry.key)!;
        (entry.prev === undefined ? out.accountsCreated : out.accountsUpdated).push(account);
      } else if (entry.table === 'transfers') {
        transfers.push(this.#state.transfers.get(entry.key)!);
      } else if (entry.table === 'holds') {
        (entry.prev === undefined ? out.holdsCreated : out.holdsUpdated).push(this.#state.holds.get(entry.key)!);
      } else {
        out.failed.push({ id: entry.key, status: this.#state.failed.get(entry.key)! });
      }
    }
    return out;
  }

  /** Forgets the journal (the memory store calls this after each request; nothing to write back). */
  reset(): void {
    this.#journal = [];
  }
}
