/**
 * @module @tollgate/core
 * Money, the ledger engine and its stores, grants, policy, the budget guard, approvals and the audit
 * record. No HTTP framework and no rail: edges and rails depend on this package, never the reverse.
 * Each area's barrel lists its public names; this file gathers them.
 */
export * as constants from './constants.ts';
export { TollgateError, ERROR_STATUS, invalid, jsonSafe, type ErrorCode, type ProblemDetails } from './errors.ts';
export { parseMicros, assertMicros, formatMicros, parseCurrency, parseMoney, formatMoney, money, type Money, type ParseOptions } from './money.ts';
export { parseInput } from './validate.ts';
export { newId, type IdPrefix } from './ids.ts';
export { Batcher, type BatcherOptions, type BatchRunner } from './batching/batcher.ts';
export { ConfigEpoch, configEpoch, CONFIG_FRESH_MS } from './batching/config-epoch.ts';
export { TtlCache, type TtlCacheOptions, type Generations } from './batching/ttl-cache.ts';
export { openDb, openPgliteDb, openPostgresDb, migrate, isPostgresUrl, type Db, type DbKind, type Queryable, type Migration, type OpenDbOptions } from './db/index.ts';
export * from './ledger/index.ts';
export { generateToken, parseToken, hashToken, tokenMatches, tokenHint, TOKEN_PREFIXES, type TokenKind, type TokenMode, type ParsedToken, type TokenProblem } from './tokens/index.ts';
export {
  parsePolicy, parsePolicyRules, parseApprovalTriggers, combinePolicy, evaluatePolicy, dryRunPolicy, factsFromRequest,
  PolicySchema, PolicyRuleSchema, PolicyRulesSchema, PolicyMatchSchema, ApprovalTriggerSettingsSchema, EnterpriseExceptionSchema,
  type Policy, type PolicyRule, type PolicyFacts, type PolicyDecision, type PolicyEffect, type PolicyLevel, type TraceEntry,
  type ApprovalFact, type ApprovalRequestHint, type CallCounters, type DryRunReport, type RecordedFacts,
  type PolicyInput as PolicyDocumentInput, type PolicyRuleInput,
} from './policy/index.ts';
export { Policies, POLICY_CACHE_MS, type PolicyScope } from './policy/store.ts';
export * from './approvals/index.ts';
export * from './webhooks/index.ts';
export * from './audit/index.ts';
export * from './services/index.ts';
export { Principals, type Org, type Project, type User, type Agent } from './principals/principals.ts';
export { Wallets, type WalletBalance, type TopUpResult } from './principals/wallets.ts';
export {
  MoneyString, OrgSettingsSchema, CreateOrgSchema, CreateProjectSchema, CreateUserSchema, CreateAgentSchema, TopUpSchema,
  type OrgSettings, type CreateOrgInput, type CreateProjectInput, type CreateUserInput, type CreateAgentInput, type TopUpInput,
} from './principals/schemas.ts';
export { Grants, DELEGATION_DEPTH_MAX, type Grant, type GrantView, type GrantStatus, type CreatedGrant } from './grants/grants.ts';
export { CreateGrantSchema, DelegateGrantSchema, ReapprovalSchema, type CreateGrantInput, type DelegateGrantInput, type Reapproval } from './grants/schemas.ts';
export { matchesPattern, patternCovers } from './grants/patterns.ts';
export { LimitSettings, ServiceLimitSchema, MonthlyLimitSchema, type ServiceLimitInput, type MonthlyLimitInput } from './limits/limit-settings.ts';
export { LimitBook, type LimitSpec, type LimitUsage } from './limits/limit-book.ts';
export { ACCOUNT_CODE, TRANSFER_CODE, SYSTEM_ACCOUNTS, accountId, type LimitKind } from './limits/accounts.ts';
export { BudgetGuard, type BudgetGuardOptions } from './guard/budget-guard.ts';
export { callIdFor } from './guard/call-id.ts';
export { AGENT_DAILY_TIERS_DEFAULT } from './guard/context.ts';
export type { CallRecord, LedgerMovement } from './guard/ports.ts';
export type { Guard, CallRequest, Authorization, Authorized, Replayed, InFlight, SettleInput, Settlement, ServiceRef, CallStatus } from './guard/types.ts';
export type { UsageEvent, UsageSink, UsageStatus, UsageRejection } from './usage/types.ts';
export { openTollgate, type Tollgate, type TollgateOptions } from './tollgate.ts';
