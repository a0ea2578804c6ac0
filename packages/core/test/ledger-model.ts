/**
 * @module test/ledger-model
 * An independent reference model of the ledger, for property tests only. It is written straight from
 * docs/ledger.md, deliberately NOT from `ledger/state-machine.ts`: plain objects, the whole state
 * copied before a linked chain and put back if the chain fails, every check spelled out inline in
 * the documented precedence. If the two ever disagree, one of them misreads the spec.
 */

const AMOUNT_MAX = 1_000_000_000_000_000n;
const BALANCE_MAX = 9_223_372_036_854_775_807n;
const TIMEOUT_MAX = 604_800;
const ID_MAX = 200;

// Flag values, restated rather than imported.
const F_LINKED = 1, F_PENDING = 2, F_POST = 4, F_VOID = 8, F_CLOSE_DR = 64, F_CLOSE_CR = 128;
const A_DMNEC = 2, A_CMNED = 4, A_CLOSED = 32;

export interface ModelAccount {
  id: string; ledger: number; code: number; currency: string; flags: number; metadata: Record<string, unknown>;
  dp: bigint; dpo: bigint; cp: bigint; cpo: bigint;
}
export interface ModelTransfer {
  id: string; dr: string; cr: string; amount: bigint; pendingId: string | null; timeout: number;
  ledger: number; code: number; flags: number; metadata: Record<string, unknown>;
}
interface ModelHold { dr: string; cr: string; amount: bigint; flags: number; expiresAt: number | null; state: string }
interface ModelState {
  accounts: Record<string, ModelAccount>;
  transfers: Record<string, ModelTransfer>;
  holds: Record<string, ModelHold>;
  failed: Record<string, string>;
}

export interface ModelTransferInput {
  id: string; debitAccountId?: string; creditAccountId?: string; amount?: bigint; pendingId?: string;
  timeoutSeconds?: number; ledger?: number; code?: number; flags?: number; metadata?: Record<string, unknown>;
}

function copy(s: ModelState): ModelState {
  const accounts: Record<string, ModelAccount> = {};
  for (const [k, v] of Object.entries(s.accounts)) accounts[k] = { ...v };
  const holds: Record<string, ModelHold> = {};
  for (const [k, v] of Object.entries(s.holds)) holds[k] = { ...v };
  return { accounts, transfers: { ...s.transfers }, holds, failed: { ...s.failed } };
}

function sortedJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`).join(',')}}`;
}

export class LedgerModel {
  s: ModelState = { accounts: {}, transfers: {}, holds: {}, failed: {} };
  nowMs = 0;
  /** Every created transfer id, oldest first. */
  history: string[] = [];

  createAccount(a: { id: string; ledger: number; code: number; currency: string; flags?: number; metadata?: Record<string, unknown> }): string {
    if (a.id === '') return 'id_must_not_be_empty';
    if (a.id.length > ID_MAX) return 'id_too_long';
    if (!(Number.isInteger(a.ledger) && a.ledger > 0 && a.ledger < 2 ** 31)) return 'ledger_invalid';
    if (!(Number.isInteger(a.code) && a.code > 0 && a.code < 2 ** 31)) return 'code_invalid';
    if (!/^[A-Z][A-Z0-9]{2,9}$/.test(a.currency)) return 'currency_invalid';
    const flags = a.flags ?? 0;
    if (flags & ~(A_DMNEC | A_CMNED | A_CLOSED)) return 'reserved_flag';
    if (flags & A_DMNEC && flags & A_CMNED) return 'flags_are_mutually_exclusive';
    const e = this.s.accounts[a.id];
    if (e) {
      if (e.ledger !== a.ledger) return 'exists_with_different_ledger';
      if (e.code !== a.code) return 'exists_with_different_code';
      if (e.currency !== a.currency) return 'exists_with_different_currency';
      if (e.flags !== flags) return 'exists_with_different_flags';
      if (sortedJson(e.metadata) !== sortedJson(a.metadata ?? {})) return 'exists_with_different_metadata';
      return 'exists';
    }
    this.s.accounts[a.id] = { id: a.id, ledger: a.ledger, code: a.code, currency: a.currency, flags, metadata: a.metadata ?? {}, dp: 0n, dpo: 0n, cp: 0n, cpo: 0n };
    return 'created';
  }

  /** One request of transfers; linked chains all-or-nothing. */
  createTransfers(list: ModelTransferInput[]): string[] {
    const out: string[] = new Array(list.length);
    let i = 0;
    while (i < list.length) {
      // Find the chain starting at i: it runs through the first event without the linked flag.
      let end = i;
      while (end < list.length - 1 && (list[end]!.flags ?? 0) & F_LINKED) end += 1;
      const isChain = end > i || ((list[i]!.flags ?? 0) & F_LINKED) !== 0;
      if (!isChain) {
        out[i] = this.one(list[i]!);
        if (this.transient(out[i]!)) this.s.failed[list[i]!.id] = out[i]!;
        i += 1;
        continue;
      }
      const saved = copy(this.s);
      const savedHistory = this.history.length;
      let failedAt = -1;
      let failure = '';
      for (let j = i; j <= end; j += 1) {
        const last = j === list.length - 1 && ((list[j]!.flags ?? 0) & F_LINKED) !== 0;
        const r = last ? 'linked_event_chain_open' : this.one(list[j]!);
        out[j] = r;
        if (r !== 'created' && r !== 'exists') {
          failedAt = j;
          failure = r;
          break;
        }
      }
      if (failedAt >= 0) {
        this.s = saved;
        this.history.length = savedHistory;
        for (let j = i; j <= end; j += 1) out[j] = 'linked_event_failed';
        out[failedAt] = failure;
        if (this.transient(failure)) this.s.failed[list[failedAt]!.id] = failure;
      }
      i = end + 1;
    }
    return out;
  }

  transient(code: string): boolean {
    return ['debit_account_not_found', 'credit_account_not_found', 'pending_transfer_not_found', 'exceeds_credits', 'exceeds_debits',
      'debit_account_already_closed', 'credit_account_already_closed'].includes(code);
  }

  one(t: ModelTransferInput): string {
    const flags = t.flags ?? 0;
    const post = (flags & F_POST) !== 0;
    const voiding = (flags & F_VOID) !== 0;
    const resolving = post || voiding;
    if (t.id === '') return 'id_must_not_be_empty';
    if (t.id.length > ID_MAX) return 'id_too_long';
    if (flags & ~(F_LINKED | F_PENDING | F_POST | F_VOID | F_CLOSE_DR | F_CLOSE_CR)) return 'reserved_flag';
    if ([F_PENDING, F_POST, F_VOID].filter((f) => flags & f).length > 1) return 'flags_are_mutually_exclusive';
    if (!resolving && !t.debitAccountId) return 'debit_account_id_must_not_be_empty';
    if (!resolving && !t.creditAccountId) return 'credit_account_id_must_not_be_empty';
    if (t.debitAccountId && t.debitAccountId === t.creditAccountId) return 'accounts_must_be_different';
    if (!resolving && t.pendingId) return 'pending_id_must_be_empty';
    if (resolving && !t.pendingId) return 'pending_id_must_not_be_empty';
    if (resolving && t.pendingId === t.id) return 'pending_id_must_be_different';
    const timeout = t.timeoutSeconds ?? 0;
    if (!(flags & F_PENDING) && timeout !== 0) return 'timeout_reserved_for_pending_transfer';
    if (!Number.isInteger(timeout) || timeout < 0 || timeout > TIMEOUT_MAX) return 'timeout_invalid';
    if (flags & (F_CLOSE_DR | F_CLOSE_CR) && !(flags & F_PENDING)) return 'closing_transfer_must_be_pending';
    if (t.amount === undefined ? !resolving : t.amount < 0n || t.amount > AMOUNT_MAX) return 'amount_invalid';
    if (t.code !== undefined && !(Number.isInteger(t.code) && t.code > 0 && t.code < 2 ** 31)) return 'code_invalid';
    const e = this.s.transfers[t.id];
    if (e) return this.compare(t, e);
    if (this.s.failed[t.id]) return 'id_already_failed';
    return resolving ? this.resolve(t, post) : this.fresh(t);
  }

  compare(t: ModelTransferInput, e: ModelTransfer): string {
    if ((t.flags ?? 0) !== e.flags) return 'exists_with_different_flags';
    if ((t.pendingId || null) !== e.pendingId) return 'exists_with_different_pending_id';
    if ((t.timeoutSeconds ?? 0) !== e.timeout) return 'exists_with_different_timeout';
    if (t.debitAccountId && t.debitAccountId !== e.dr) return 'exists_with_different_debit_account_id';
    if (t.creditAccountId && t.creditAccountId !== e.cr) return 'exists_with_different_credit_account_id';
    let sameAmount: boolean;
    if (e.flags & F_POST) sameAmount = t.amount === undefined ? this.s.transfers[e.pendingId!]!.amount === e.amount : t.amount === e.amount;
    else if (e.flags & F_VOID) sameAmount = t.amount === undefined || t.amount === 0n || t.amount === e.amount;
    else sameAmount = t.amount === e.amount;
    if (!sameAmount) return 'exists_with_different_amount';
    if (sortedJson(t.metadata ?? {}) !== sortedJson(e.metadata)) return 'exists_with_different_metadata';
    if (t.ledger !== undefined && t.ledger !== e.ledger) return 'exists_with_different_ledger';
    const resolving = (e.flags & (F_POST | F_VOID)) !== 0;
    if (t.code !== undefined ? t.code !== e.code : !resolving && e.code !== 1) return 'exists_with_different_code';
    return 'exists';
  }

  resolve(t: ModelTransferInput, post: boolean): string {
    const p = this.s.transfers[t.pendingId!];
    if (!p) return 'pending_transfer_not_found';
    if (!(p.flags & F_PENDING)) return 'pending_transfer_not_pending';
    if (t.debitAccountId && t.debitAccountId !== p.dr) return 'pending_transfer_has_different_debit_account_id';
    if (t.creditAccountId && t.creditAccountId !== p.cr) return 'pending_transfer_has_different_credit_account_id';
    if (t.ledger !== undefined && t.ledger !== p.ledger) return 'pending_transfer_has_different_ledger';
    if (t.code !== undefined && t.code !== p.code) return 'pending_transfer_has_different_code';
    if (post && t.amount !== undefined && t.amount > p.amount) return 'exceeds_pending_transfer_amount';
    if (!post && t.amount !== undefined && t.amount !== 0n && t.amount !== p.amount) return 'pending_transfer_has_different_amount';
    const h = this.s.holds[p.id]!;
    if (h.state === 'posted') return 'pending_transfer_already_posted';
    if (h.state === 'voided') return 'pending_transfer_already_voided';
    if (h.state === 'expired' || (h.expiresAt !== null && this.nowMs >= h.expiresAt)) return 'pending_transfer_expired';
    const amount = post ? (t.amount ?? p.amount) : p.amount;
    this.unhold(p.id, post ? 'posted' : 'voided', post ? amount : 0n);
    this.s.transfers[t.id] = { id: t.id, dr: p.dr, cr: p.cr, amount, pendingId: p.id, timeout: 0, ledger: p.ledger, code: p.code, flags: t.flags ?? 0, metadata: t.metadata ?? {} };
    this.history.push(t.id);
    return 'created';
  }

  unhold(id: string, state: string, posted: bigint): void {
    const h = this.s.holds[id]!;
    const dr = this.s.accounts[h.dr]!;
    const cr = this.s.accounts[h.cr]!;
    dr.dp -= h.amount;
    cr.cp -= h.amount;
    dr.dpo += posted;
    cr.cpo += posted;
    if (state !== 'posted' && h.flags & F_CLOSE_DR) dr.flags &= ~A_CLOSED;
    if (state !== 'posted' && h.flags & F_CLOSE_CR) cr.flags &= ~A_CLOSED;
    h.state = state;
  }

  fresh(t: ModelTransferInput): string {
    const dr = this.s.accounts[t.debitAccountId!];
    const cr = this.s.accounts[t.creditAccountId!];
    if (!dr) return 'debit_account_not_found';
    if (!cr) return 'credit_account_not_found';
    if (dr.ledger !== cr.ledger) return 'accounts_must_have_the_same_ledger';
    if (dr.currency !== cr.currency) return 'accounts_must_have_the_same_currency';
    if (t.ledger !== undefined && t.ledger !== dr.ledger) return 'transfer_must_have_the_same_ledger_as_accounts';
    if (dr.flags & A_CLOSED) return 'debit_account_already_closed';
    if (cr.flags & A_CLOSED) return 'credit_account_already_closed';
    const a = t.amount!;
    if (dr.dp + dr.dpo + a > BALANCE_MAX) return 'overflows_debits';
    if (cr.cp + cr.cpo + a > BALANCE_MAX) return 'overflows_credits';
    if (dr.flags & A_DMNEC && dr.dp + dr.dpo + a > dr.cpo) return 'exceeds_credits';
    if (cr.flags & A_CMNED && cr.cp + cr.cpo + a > cr.dpo) return 'exceeds_debits';
    const flags = t.flags ?? 0;
    if (flags & F_PENDING) {
      dr.dp += a;
      cr.cp += a;
      const timeout = t.timeoutSeconds ?? 0;
      this.s.holds[t.id] = { dr: dr.id, cr: cr.id, amount: a, flags, expiresAt: timeout ? this.nowMs + timeout * 1000 : null, state: 'pending' };
      if (flags & F_CLOSE_DR) dr.flags |= A_CLOSED;
      if (flags & F_CLOSE_CR) cr.flags |= A_CLOSED;
    } else {
      dr.dpo += a;
      cr.cpo += a;
    }
    this.s.transfers[t.id] = { id: t.id, dr: dr.id, cr: cr.id, amount: a, pendingId: null, timeout: t.timeoutSeconds ?? 0, ledger: dr.ledger, code: t.code ?? 1, flags, metadata: t.metadata ?? {} };
    this.history.push(t.id);
    return 'created';
  }

  /** Expires every overdue pending hold, oldest expiry first (then by id), up to `limit`. */
  expire(limit: number): number {
    const due = Object.entries(this.s.holds)
      .filter(([, h]) => h.state === 'pending' && h.expiresAt !== null && h.expiresAt <= this.nowMs)
      .sort(([ia, a], [ib, b]) => a.expiresAt! - b.expiresAt! || (ia < ib ? -1 : ia > ib ? 1 : 0))
      .slice(0, limit);
    for (const [id] of due) this.unhold(id, 'expired', 0n);
    return due.length;
  }

  /** What lookupPending should say about a hold now. */
  pendingState(id: string): string | undefined {
    const h = this.s.holds[id];
    if (!h) return undefined;
    if (h.state === 'pending' && h.expiresAt !== null && this.nowMs >= h.expiresAt) return 'expired';
    return h.state;
  }
}
