/**
 * @module policy
 * The rule language: zod schemas for the wire, a compiler, the pure evaluator with built-in
 * approval triggers, and the dry run of a policy change.
 */
export {
  PolicySchema,
  PolicyRuleSchema,
  PolicyRulesSchema,
  PolicyMatchSchema,
  PriceRangeSchema,
  SensitivityRangeSchema,
  ApprovalTriggerSettingsSchema,
  EnterpriseExceptionSchema,
  PolicyLevelSchema,
  PolicyEffectSchema,
  SensitivitySchema,
  PriceStringSchema,
  POLICY_LEVELS,
  POLICY_EFFECTS,
  SENSITIVITIES,
  type PolicyInput,
  type PolicyRuleInput,
  type PolicyMatchInput,
  type ApprovalTriggerSettingsInput,
} from './schemas.ts';
export { parsePolicy, parsePolicyRules, parseApprovalTriggers, combinePolicy, type ParseOptions as PolicyParseOptions } from './compile.ts';
export { evaluatePolicy } from './evaluate.ts';
export { factsFromRequest, type CallCounters } from './facts.ts';
export { dryRunPolicy, type DryRunReport, type DecisionChange, type DecisionSide, type RecordedFacts } from './dry-run.ts';
export {
  POLICY_RULES_MAX,
  MATCH_VALUES_MAX,
  POLICY_ID_LENGTH_MAX,
  POLICY_DESCRIPTION_LENGTH_MAX,
  ENTERPRISE_EXCEPTIONS_MAX,
  POLICY_PRIORITY_MAX,
  DRY_RUN_CALLS_MAX,
  DRY_RUN_CHANGES_LISTED_MAX,
} from './limits.ts';
export type {
  Policy,
  PolicyRule,
  PolicyMatch,
  PolicyFacts,
  PolicyDecision,
  PolicyEffect,
  PolicyLevel,
  Sensitivity,
  TraceEntry,
  ApprovalFact,
  ApprovalAsk,
  ApprovalRequestHint,
  ApprovalTriggers,
  EnterpriseException,
} from './types.ts';
