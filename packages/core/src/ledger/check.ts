/**
 * @module ledger/check
 * The ledger's invariants, recomputed from scratch over plain data (the memory store's maps; the SQL
 * store runs the same rules in SQL so it scales to a live database):
 * - per ledger, Σ debits = Σ credits, for pending and for posted amounts;
 * - no account breaks `debits_must_not_exceed_credits` / `credits_must_not_exceed_debits`;
 * - each account's four balance columns equal the sums of its posted transfers and pending holds.
 */
import type { Hold } from './state-machine.ts';
import { ACCOUNT_FLAGS, TRANSFER_FLAGS, type Account, type InvariantReport, type InvariantViolation, type Transfer } from './types.ts';

/** Violations reported at most, so a badly broken ledger still gives a readable report. */
export const VIOLATIONS_REPORTED_MAX = 100;

interface Sums {
  debitsPending: bigint;
  debitsPosted: bigint;
  creditsPending: bigint;
  creditsPosted: bigint;
}

const zero = (): Sums => ({ debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n });

/** Whether a transfer moved posted money: single-phase or a post (holds and voids never do). */
export function movesPosted(flags: number): boolean {
  return (flags & (TRANSFER_FLAGS.pending | TRANSFER_FLAGS.voidPending)) === 0;
}

function recompute(transfers: Iterable<Transfer>, holds: Iterable<Hold>): Map<string, Sums> {
  const sums = new Map<string, Sums>();
  const at = (id: string) => sums.get(id) ?? sums.set(id, zero()).get(id)!;
  for (const t of transfers) {
    if (!movesPosted(t.flags)) continue;
    at(t.debitAccountId).debitsPosted += t.amount;
    at(t.creditAccountId).creditsPosted += t.amount;
  }
  for (const h of holds) {
    if (h.state !== 'pending') continue;
    at(h.debitAccountId).debitsPending += h.amount;
    at(h.creditAccountId).creditsPending += h.amount;
  }
  return sums;
}

/** Flag rules for one account (shared with the SQL check's row reports). */
export function flagViolations(a: Account): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  if (a.flags & ACCOUNT_FLAGS.debitsMustNotExceedCredits && a.debitsPending + a.debitsPosted > a.creditsPosted) {
    out.push({ rule: 'debits_must_not_exceed_credits', detail: `account ${a.id}: debits ${a.debitsPending + a.debitsPosted} > credits posted ${a.creditsPosted}` });
  }
  if (a.flags & ACCOUNT_FLAGS.creditsMustNotExceedDebits && a.creditsPending + a.creditsPosted > a.debitsPosted) {
    out.push({ rule: 'credits_must_not_exceed_debits', detail: `account ${a.id}: credits ${a.creditsPending + a.creditsPosted} > debits posted ${a.debitsPosted}` });
  }
  return out;
}

export function checkLedger(accounts: Iterable<Account>, transfers: readonly Transfer[], holds: readonly Hold[]): InvariantReport {
  const violations: InvariantViolation[] = [];
  const sums = recompute(transfers, holds);
  const perLedger = new Map<number, Sums>();
  let count = 0;
  for (const a of accounts) {
    count += 1;
    const l = perLedger.get(a.ledger) ?? perLedger.set(a.ledger, zero()).get(a.ledger)!;
    l.debitsPending += a.debitsPending;
    l.debitsPosted += a.debitsPosted;
    l.creditsPending += a.creditsPending;
    l.creditsPosted += a.creditsPosted;
    violations.push(...flagViolations(a));
    const s = sums.get(a.id) ?? zero();
    for (const column of ['debitsPending', 'debitsPosted', 'creditsPending', 'creditsPosted'] as const) {
      if (a[column] !== s[column]) violations.push({ rule: 'balance_matches_history', detail: `account ${a.id}: ${column} ${a[column]} but transfers sum to ${s[column]}` });
    }
  }
  for (const [ledger, l] of perLedger) violations.push(...ledgerViolations(ledger, l));
  return {
    ok: violations.length === 0,
    accounts: count,
    transfers: transfers.length,
    pendingHolds: holds.filter((h) => h.state === 'pending').length,
    violations: violations.slice(0, VIOLATIONS_REPORTED_MAX),
  };
}

/** Double entry on one ledger. */
export function ledgerViolations(ledger: number, l: Sums): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  if (l.debitsPending !== l.creditsPending) out.push({ rule: 'double_entry_pending', detail: `ledger ${ledger}: debits pending ${l.debitsPending} ≠ credits pending ${l.creditsPending}` });
  if (l.debitsPosted !== l.creditsPosted) out.push({ rule: 'double_entry_posted', detail: `ledger ${ledger}: debits posted ${l.debitsPosted} ≠ credits posted ${l.creditsPosted}` });
  return out;
}
