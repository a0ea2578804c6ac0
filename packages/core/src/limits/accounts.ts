/**
 * @module limits/accounts
 * Names and codes of every ledger account Tollgate uses. Limits are accounts on the limits ledger
 * with `debitsMustNotExceedCredits`, funded once from `limits:source` with their cap; a call's hold
 * debits each of them, so "fits every limit" is one linked ledger request.
 */
import { ACCOUNT_FLAGS, LEDGER, type AccountInput } from '../ledger/types.ts';

export const ACCOUNT_CODE = {
  wallet: 1,
  clearing: 2,
  earnings: 3,
  fees: 4,
  externalFunding: 5,
  externalPayouts: 6,
  limitSource: 100,
  grantTotal: 101,
  userMonth: 102,
  projectMonth: 103,
  orgMonth: 104,
  serviceMonth: 105,
  freeTier: 106,
  agentDay: 107,
  rateMinute: 108,
  limitSink: 109,
} as const;

export const TRANSFER_CODE = {
  topUp: 1,
  charge: 2,
  earnings: 3,
  fee: 4,
  payout: 5,
  limitFund: 10,
  limitUse: 11,
  revoke: 21,
} as const;

/** The kinds of limit a call must fit, named as refusals name them. */
export type LimitKind =
  | 'grant_total'
  | 'user_monthly'
  | 'project_monthly'
  | 'org_monthly'
  | 'service_monthly'
  | 'free_tier'
  | 'agent_daily'
  | 'rate_per_minute';

export const LIMIT_CODE: Record<LimitKind, number> = {
  grant_total: ACCOUNT_CODE.grantTotal,
  user_monthly: ACCOUNT_CODE.userMonth,
  project_monthly: ACCOUNT_CODE.projectMonth,
  org_monthly: ACCOUNT_CODE.orgMonth,
  service_monthly: ACCOUNT_CODE.serviceMonth,
  free_tier: ACCOUNT_CODE.freeTier,
  agent_daily: ACCOUNT_CODE.agentDay,
  rate_per_minute: ACCOUNT_CODE.rateMinute,
};

/** How refusals and explanations name each limit (and the per-call cap, which is no account). */
export const LIMIT_LABELS: Readonly<Record<LimitKind | 'per_call', string>> = {
  per_call: "the grant's per-call cap",
  grant_total: "the grant's total cap",
  user_monthly: "the user's monthly limit",
  project_monthly: "the project's monthly limit",
  org_monthly: "the org's monthly limit",
  service_monthly: 'the monthly limit for this service',
  free_tier: 'the free tier',
  agent_daily: "the agent's daily limit",
  rate_per_minute: 'the rate limit',
};

/** Limits counted in calls rather than money. */
export const COUNT_LIMITS: ReadonlySet<LimitKind> = new Set(['free_tier', 'rate_per_minute']);

export const SYSTEM_ACCOUNTS = {
  externalFunding: 'external:funding',
  externalPayouts: 'external:payouts',
  clearing: 'clearing:calls',
  fees: 'fees:platform',
  limitSource: 'limits:source',
  limitSink: 'limits:sink',
} as const;

export const accountId = {
  wallet: (ownerId: string) => `wallet:${ownerId}`,
  earnings: (sellerId: string) => `earnings:${sellerId}`,
  grantTotal: (grantId: string) => `grant:${grantId}`,
  limit: (kind: LimitKind, scope: string, period: string) => `${kind}:${scope}:${period}`,
};

const noFlags = 0;
const guarded = ACCOUNT_FLAGS.debitsMustNotExceedCredits;

export function systemAccounts(currency: string): AccountInput[] {
  return [
    { id: SYSTEM_ACCOUNTS.externalFunding, ledger: LEDGER.money, code: ACCOUNT_CODE.externalFunding, currency, flags: noFlags },
    { id: SYSTEM_ACCOUNTS.externalPayouts, ledger: LEDGER.money, code: ACCOUNT_CODE.externalPayouts, currency, flags: noFlags },
    { id: SYSTEM_ACCOUNTS.clearing, ledger: LEDGER.money, code: ACCOUNT_CODE.clearing, currency, flags: guarded },
    { id: SYSTEM_ACCOUNTS.fees, ledger: LEDGER.money, code: ACCOUNT_CODE.fees, currency, flags: guarded },
    { id: SYSTEM_ACCOUNTS.limitSource, ledger: LEDGER.limits, code: ACCOUNT_CODE.limitSource, currency, flags: noFlags },
    { id: SYSTEM_ACCOUNTS.limitSink, ledger: LEDGER.limits, code: ACCOUNT_CODE.limitSink, currency, flags: noFlags },
  ];
}

export function walletAccount(ownerId: string, currency: string): AccountInput {
  return { id: accountId.wallet(ownerId), ledger: LEDGER.money, code: ACCOUNT_CODE.wallet, currency, flags: guarded, metadata: { ownerId } };
}

export function earningsAccount(sellerId: string, currency: string): AccountInput {
  return { id: accountId.earnings(sellerId), ledger: LEDGER.money, code: ACCOUNT_CODE.earnings, currency, flags: guarded, metadata: { sellerId } };
}

export function limitAccount(id: string, kind: LimitKind, currency: string): AccountInput {
  return { id, ledger: LEDGER.limits, code: LIMIT_CODE[kind], currency, flags: guarded, metadata: { kind } };
}
