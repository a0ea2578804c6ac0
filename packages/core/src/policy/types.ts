/**
 * @module policy/types
 * The evaluator's side of the rule language: compiled rules (bigint prices), the facts a call is
 * judged on, and the decision with its trace. Facts are computed by the caller (the guard), so the
 * evaluator stays a pure function that needs no database and no clock.
 */
import type { ServiceRef } from '../guard/types.ts';
import type { POLICY_EFFECTS, POLICY_LEVELS, SENSITIVITIES } from './schemas.ts';

export type PolicyLevel = (typeof POLICY_LEVELS)[number];
export type PolicyEffect = (typeof POLICY_EFFECTS)[number];
export type Sensitivity = (typeof SENSITIVITIES)[number];

/** A name list prepared once: exact names in a set, `prefix*` patterns as prefixes. */
export interface NameMatcher {
  readonly values: readonly string[];
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  /** `*` alone: matches every name. */
  readonly any: boolean;
}

export interface PolicyMatch {
  services?: NameMatcher;
  vendors?: ReadonlySet<string>;
  categories?: ReadonlySet<string>;
  tools?: NameMatcher;
  priceMinMicros?: bigint;
  priceMaxMicros?: bigint;
  /** Ranks 0 (low) … 2 (high), inclusive. */
  sensitivityMin?: number;
  sensitivityMax?: number;
  agents?: ReadonlySet<string>;
}

export interface PolicyRule {
  id: string;
  level: PolicyLevel;
  description?: string;
  effect: PolicyEffect;
  match: PolicyMatch;
  priority: number;
}

export interface EnterpriseException {
  name: string;
  description?: string;
  approved: PolicyMatch;
}

/** Compiled trigger settings: a trigger that is absent is off. */
export interface ApprovalTriggers {
  firstPaidCallInTask?: true;
  firstUseOfService?: true;
  priceAboveMicros?: bigint;
  sensitiveCategory?: { categories: ReadonlySet<string>; sensitivityAtLeast?: number };
  grantCapExceeded?: true;
  enterpriseExceptions?: readonly EnterpriseException[];
}

export interface Policy {
  rules: readonly PolicyRule[];
  triggers: ApprovalTriggers;
  /** What is decided when nothing matches; `allow` unless configured. */
  defaultDecision: PolicyEffect;
}

/** An approval the caller found for this call (a retry with an approval id). */
export interface ApprovalFact {
  id: string;
  /**
   * What it answers: `all`, or the ids it was asked for (`trigger:price_above`, a rule id). Those
   * triggers and require_approval rules do not fire again; a deny rule always still applies.
   */
  covers: 'all' | readonly string[];
}

/** Everything a decision depends on, computed by the caller before evaluation. */
export interface PolicyFacts {
  service: Pick<ServiceRef, 'slug' | 'sellerId' | 'category' | 'sensitivity'>;
  /** The MCP tool name, or `METHOD /path` for HTTP. */
  tool: string;
  /** The quoted price, or the maximum of a usage-priced call. */
  priceMicros: bigint;
  agentId: string | null;
  taskId: string | null;
  /** No earlier call in this task was paid (false when there is no task). */
  isFirstPaidCallInTask: boolean;
  /** The org has paid for this service before. */
  orgHasPaidService: boolean;
  /** What the grant (and its ancestors) can still spend; null when uncapped. */
  grantRemainingMicros: bigint | null;
  /** The tightest of the user's own limits (user, project, org month); null when unlimited. */
  userRemainingMicros: bigint | null;
  approval?: ApprovalFact;
}

/** One rule or trigger as the evaluator saw it. */
export interface TraceEntry {
  /** The rule's id, or `trigger:<name>` (`trigger:enterprise_exception:<set>`) for a built-in trigger. */
  ruleId: string;
  level: PolicyLevel;
  matched: boolean;
  effect: PolicyEffect;
  /** Why it matched or which condition did not. */
  why: string;
  /** Set when it matched but an approval already answered it. */
  satisfiedBy?: string;
}

/** What approving would allow: this call, or raising the grant's cap by an amount. */
export interface ApprovalAsk {
  scope: 'call' | 'raise_cap';
  raiseMicros?: bigint;
}

/** What a person is asked to approve: every rule and trigger that asks, so one yes answers them all. */
export interface ApprovalRequestHint extends ApprovalAsk {
  /** Ids to store on the approval and pass back as `ApprovalFact.covers` on the retry. */
  covers: string[];
}

export interface PolicyDecision {
  decision: PolicyEffect;
  /** The rule or trigger that decided; absent when the default decided. */
  rule?: { id: string; level: PolicyLevel };
  /** One human sentence. */
  reason: string;
  trace: TraceEntry[];
  /** Present when the decision is `require_approval`. */
  ask?: ApprovalRequestHint;
}
