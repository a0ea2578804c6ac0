/**
 * @module guard/refusals
 * Turns a failed hold chain into the refusal a client can act on: which limit blocked the call,
 * its cap, what is used and what remains. The failing member of a linked chain carries the real
 * result code; the others say `linked_event_failed`.
 */
import { TollgateError } from '../errors.ts';
import type { Account, TransferResult } from '../ledger/types.ts';
import { COUNT_LIMITS, LIMIT_LABELS } from '../limits/accounts.ts';
import { formatMicros } from '../money.ts';
import type { Step } from './hold-chain.ts';


/** The index of the member whose own code made the chain fail. */
export function failingIndex(results: readonly TransferResult[]): number {
  return results.findIndex((r) => r.status !== 'created' && r.status !== 'exists' && r.status !== 'linked_event_failed');
}

export function refusalFor(step: Step, result: TransferResult, account: Account | undefined, requestedMicros: bigint, now: Date): TollgateError {
  if (step.kind === 'grant_total' && result.status === 'debit_account_already_closed') {
    return new TollgateError('grant_revoked', `Grant ${step.grantId} has been revoked`, { grantId: step.grantId });
  }
  if (result.status !== 'exceeds_credits' || !account) {
    return new TollgateError('internal', `hold refused by the ledger on ${step.accountId}: ${result.status}`, { status: result.status });
  }
  const cap = account.creditsPosted;
  const used = account.debitsPosted;
  const held = account.debitsPending;
  const remaining = cap - used - held;
  if (step.kind === 'wallet') {
    return new TollgateError('insufficient_funds', `The wallet has ${formatMicros(remaining)} available; this call needs ${formatMicros(requestedMicros)}`, {
      available: formatMicros(remaining),
      requested: formatMicros(requestedMicros),
    });
  }
  const count = COUNT_LIMITS.has(step.kind);
  const show = (v: bigint) => (count ? v.toString() : formatMicros(v));
  const data = {
    limit: step.kind,
    scope: step.accountId,
    ...(step.grantId ? { grantId: step.grantId } : {}),
    unit: count ? 'calls' : 'money',
    cap: show(cap),
    used: show(used),
    held: show(held),
    remaining: show(remaining < 0n ? 0n : remaining),
    requested: show(count ? 1n : requestedMicros),
  };
  if (step.kind === 'rate_per_minute') {
    const retryAfterSeconds = 60 - now.getUTCSeconds();
    return new TollgateError('rate_limited', `Rate limit reached: ${cap} calls per minute`, { ...data, retryAfterSeconds });
  }
  const label = LIMIT_LABELS[step.kind as keyof typeof LIMIT_LABELS] ?? step.kind;
  return new TollgateError('budget_exceeded', `This call would exceed ${label}: cap ${data.cap}, used ${data.used}, held ${data.held}, remaining ${data.remaining}, requested ${data.requested}`, data);
}
