/**
 * @module guard/hold-chain
 * Builds the ONE linked ledger request that holds a call against every limit that applies:
 *
 *   grant and each ancestor                  (amount, pending; 0 and posted on a free attempt)
 *   rate: calls this minute per grant        (1, posted; counts attempts)
 *   free tier (free attempt) or every other money limit: user / project / org month, service
 *   month, agent day                         (amount, pending)
 *   wallet → clearing                        (amount, pending; closes the chain)
 *
 * Revoking a grant closes its grant account, so the first member fails for a revoked grant (or a
 * revoked ancestor) while holds placed before the revocation still post or void.
 *
 * All succeed or none do, and the failing member names the limit that blocked the call.
 */
import { LEDGER, TRANSFER_FLAGS, type TransferInput } from '../ledger/types.ts';
import { accountId, SYSTEM_ACCOUNTS, TRANSFER_CODE, type LimitKind } from '../limits/accounts.ts';
import type { LimitSpec } from '../limits/limit-book.ts';
import { dayKey, minuteKey, monthKey } from '../limits/periods.ts';
import { stepId } from './call-id.ts';

export interface LimitContext {
  now: Date;
  /** The grant first, then its ancestors. */
  lineage: readonly { id: string; ratePerMinute: number | null; totalCapMicros: bigint }[];
  userId: string;
  projectId: string | null;
  orgId: string;
  serviceId: string;
  agentId: string | null;
  userMonthlyMicros: bigint | null;
  projectMonthlyMicros: bigint | null;
  orgMonthlyMicros: bigint | null;
  serviceMonthlyMicros: bigint | null;
  agentDailyMicros: bigint | null;
  freeCallsPerMonth: number;
  /** Whose wallet pays: the user's, or the org's for org and project grants. */
  walletOwnerId: string;
  holdTimeoutSeconds: number;
}

export type StepKind = LimitKind | 'wallet';

export interface Step {
  kind: StepKind;
  accountId: string;
  /** Present on grant and rate steps: which grant of the lineage. */
  grantId?: string;
  /** Counted in calls, not money. */
  count: boolean;
  /** Whether this step is a hold to resolve at settle. */
  pending: boolean;
}

export interface HoldChain {
  transfers: TransferInput[];
  steps: Step[];
  /** Limit accounts that must exist (and be funded) before the chain is submitted. */
  limits: LimitSpec[];
}

export function buildHoldChain(ctx: LimitContext, callId: string, holdMicros: bigint, attempt: 'paid' | 'free'): HoldChain {
  const steps: Step[] = [];
  const limits: LimitSpec[] = [];
  const amounts: bigint[] = [];
  const add = (step: Step, amount: bigint, spec?: Omit<LimitSpec, 'id'>) => {
    steps.push(step);
    amounts.push(amount);
    if (spec) limits.push({ id: step.accountId, ...spec });
  };
  const month = monthKey(ctx.now);
  const free = attempt === 'free';
  for (const grant of ctx.lineage) {
    // A free call moves nothing on the grant, but still passes through it: a closed (revoked) grant refuses it.
    add({ kind: 'grant_total', accountId: accountId.grantTotal(grant.id), grantId: grant.id, count: false, pending: !free }, free ? 0n : holdMicros, {
      kind: 'grant_total',
      capMicros: grant.totalCapMicros,
    });
  }
  for (const grant of ctx.lineage) {
    if (grant.ratePerMinute === null) continue;
    const id = accountId.limit('rate_per_minute', grant.id, minuteKey(ctx.now));
    add({ kind: 'rate_per_minute', accountId: id, grantId: grant.id, count: true, pending: false }, 1n, { kind: 'rate_per_minute', capMicros: BigInt(grant.ratePerMinute) });
  }
  if (free) {
    const id = accountId.limit('free_tier', `${ctx.userId}:${ctx.serviceId}`, month);
    add({ kind: 'free_tier', accountId: id, count: true, pending: true }, 1n, { kind: 'free_tier', capMicros: BigInt(ctx.freeCallsPerMonth) });
  } else {
    const money = (kind: LimitKind, scope: string | null, period: string, cap: bigint | null) => {
      if (scope === null || cap === null) return;
      add({ kind, accountId: accountId.limit(kind, scope, period), count: false, pending: true }, holdMicros, { kind, capMicros: cap });
    };
    money('user_monthly', ctx.userId, month, ctx.userMonthlyMicros);
    money('project_monthly', ctx.projectId, month, ctx.projectMonthlyMicros);
    money('org_monthly', ctx.orgId, month, ctx.orgMonthlyMicros);
    money('service_monthly', `${ctx.userId}:${ctx.serviceId}`, month, ctx.serviceMonthlyMicros);
    money('agent_daily', ctx.agentId, dayKey(ctx.now), ctx.agentDailyMicros);
    add({ kind: 'wallet', accountId: accountId.wallet(ctx.walletOwnerId), count: false, pending: true }, holdMicros);
  }
  const transfers = steps.map((step, index): TransferInput => {
    const isWallet = step.kind === 'wallet';
    const last = index === steps.length - 1;
    return {
      id: stepId.hold(callId, attempt, index),
      debitAccountId: step.accountId,
      creditAccountId: isWallet ? SYSTEM_ACCOUNTS.clearing : SYSTEM_ACCOUNTS.limitSink,
      amount: amounts[index]!,
      ledger: isWallet ? LEDGER.money : LEDGER.limits,
      code: isWallet ? TRANSFER_CODE.charge : TRANSFER_CODE.limitUse,
      flags: (last ? 0 : TRANSFER_FLAGS.linked) | (step.pending ? TRANSFER_FLAGS.pending : 0),
      ...(step.pending ? { timeoutSeconds: ctx.holdTimeoutSeconds } : {}),
      metadata: { callId, step: step.kind },
    };
  });
  return { transfers, steps, limits };
}

export interface SettleChainInput {
  callId: string;
  holdIds: readonly string[];
  countHoldIds: readonly string[];
  capture: boolean;
  chargeMicros: bigint;
  feeMicros: bigint;
  sellerId: string;
}

/** Posts (or voids) every hold of a call and splits a capture into seller earnings and the fee. */
export function buildSettleChain(input: SettleChainInput): TransferInput[] {
  const count = new Set(input.countHoldIds);
  const transfers: TransferInput[] = input.holdIds.map((holdId) =>
    input.capture
      ? { id: stepId.post(holdId), pendingId: holdId, flags: TRANSFER_FLAGS.postPending, ...(count.has(holdId) ? {} : { amount: input.chargeMicros }) }
      : { id: stepId.void(holdId), pendingId: holdId, flags: TRANSFER_FLAGS.voidPending },
  );
  if (input.capture && input.chargeMicros > 0n) {
    const earnings = input.chargeMicros - input.feeMicros;
    if (earnings > 0n) {
      transfers.push({ id: stepId.earnings(input.callId), debitAccountId: SYSTEM_ACCOUNTS.clearing, creditAccountId: accountId.earnings(input.sellerId), amount: earnings, ledger: LEDGER.money, code: TRANSFER_CODE.earnings, metadata: { callId: input.callId } });
    }
    if (input.feeMicros > 0n) {
      transfers.push({ id: stepId.fee(input.callId), debitAccountId: SYSTEM_ACCOUNTS.clearing, creditAccountId: SYSTEM_ACCOUNTS.fees, amount: input.feeMicros, ledger: LEDGER.money, code: TRANSFER_CODE.fee, metadata: { callId: input.callId } });
    }
  }
  return transfers.map((t, i) => ({ ...t, flags: (t.flags ?? 0) | (i < transfers.length - 1 ? TRANSFER_FLAGS.linked : 0) }));
}
