/**
 * @module policy/compile
 * Wire → evaluator form. Parsing validates with the zod schemas and throws a 400 naming the field
 * (`rules.2.match.price.min: must be a decimal amount …`); compiling turns decimal prices into
 * micro-units and name lists into sets and prefixes once, so evaluation does no parsing at all.
 */
import type { z } from 'zod';
import { invalid } from '../errors.ts';
import { parseMicros } from '../money.ts';
import {
  ApprovalTriggerSettingsSchema,
  PolicyRulesSchema,
  PolicySchema,
  SENSITIVITIES,
  type PolicyMatchSchema,
  type PolicyRuleSchema,
} from './schemas.ts';
import type { ApprovalTriggers, NameMatcher, Policy, PolicyLevel, PolicyMatch, PolicyRule } from './types.ts';

type MatchWire = z.output<typeof PolicyMatchSchema>;
type RuleWire = z.output<typeof PolicyRuleSchema>;
type TriggersWire = z.output<typeof ApprovalTriggerSettingsSchema>;

export interface ParseOptions {
  /** Prefix of every field name in errors, e.g. `rules` or `body.policy`. */
  field?: string;
}

/** Validates a whole policy (`{ rules, triggers, defaultDecision }`) and compiles it. */
export function parsePolicy(input: unknown, options: ParseOptions = {}): Policy {
  const wire = validate(PolicySchema, input, options.field);
  return { rules: wire.rules.map(compileRule), triggers: compileTriggers(wire.triggers), defaultDecision: wire.defaultDecision };
}

/**
 * Validates and compiles one scope's rule list. With `level`, every rule must be of that level
 * (a project's policy set cannot smuggle in org rules).
 */
export function parsePolicyRules(input: unknown, options: ParseOptions & { level?: PolicyLevel } = {}): PolicyRule[] {
  const wire = validate(PolicyRulesSchema, input, options.field);
  const wrong = options.level === undefined ? -1 : wire.findIndex((r) => r.level !== options.level);
  if (wrong >= 0) throw invalid(fieldName(options.field, [wrong, 'level']), `must be ${options.level} in a ${options.level} policy set`);
  return wire.map(compileRule);
}

/** Validates and compiles an org's approval trigger settings. */
export function parseApprovalTriggers(input: unknown, options: ParseOptions = {}): ApprovalTriggers {
  return compileTriggers(validate(ApprovalTriggerSettingsSchema, input, options.field));
}

/** Joins the rule lists of every scope a call falls under into one policy. */
export function combinePolicy(parts: { rules?: readonly (readonly PolicyRule[])[]; triggers?: ApprovalTriggers; defaultDecision?: Policy['defaultDecision'] }): Policy {
  return { rules: (parts.rules ?? []).flat(), triggers: parts.triggers ?? {}, defaultDecision: parts.defaultDecision ?? 'allow' };
}

function validate<S extends z.ZodType>(schema: S, input: unknown, prefix: string | undefined): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 10).map((i) => ({ path: fieldName(prefix, i.path), message: i.message }));
  const first = issues[0]!;
  throw invalid(first.path, first.message, { issues });
}

function fieldName(prefix: string | undefined, path: readonly PropertyKey[]): string {
  const parts = [...(prefix ? [prefix] : []), ...path.map(String)];
  return parts.length > 0 ? parts.join('.') : 'body';
}

export function compileRule(rule: RuleWire): PolicyRule {
  return {
    id: rule.id,
    level: rule.level,
    ...(rule.description === undefined ? {} : { description: rule.description }),
    effect: rule.effect,
    match: compileMatch(rule.match),
    priority: rule.priority ?? 0,
  };
}

export function compileMatch(m: MatchWire): PolicyMatch {
  const out: PolicyMatch = {};
  if (m.services) out.services = nameMatcher(m.services);
  if (m.vendors) out.vendors = new Set(m.vendors);
  if (m.categories) out.categories = new Set(m.categories);
  if (m.tools) out.tools = nameMatcher(m.tools);
  if (m.price?.min !== undefined) out.priceMinMicros = parseMicros(m.price.min, { field: 'match.price.min' });
  if (m.price?.max !== undefined) out.priceMaxMicros = parseMicros(m.price.max, { field: 'match.price.max' });
  if (m.sensitivity?.min !== undefined) out.sensitivityMin = SENSITIVITIES.indexOf(m.sensitivity.min);
  if (m.sensitivity?.max !== undefined) out.sensitivityMax = SENSITIVITIES.indexOf(m.sensitivity.max);
  if (m.agents) out.agents = new Set(m.agents);
  return out;
}

export function nameMatcher(values: readonly string[]): NameMatcher {
  return {
    values,
    exact: new Set(values.filter((v) => !v.endsWith('*'))),
    prefixes: values.filter((v) => v.endsWith('*')).map((v) => v.slice(0, -1)),
    any: values.includes('*'),
  };
}

export function compileTriggers(t: TriggersWire): ApprovalTriggers {
  const out: ApprovalTriggers = {};
  if (t.firstPaidCallInTask?.enabled) out.firstPaidCallInTask = true;
  if (t.firstUseOfService?.enabled) out.firstUseOfService = true;
  if (t.priceAbove?.enabled) out.priceAboveMicros = parseMicros(t.priceAbove.threshold, { field: 'triggers.priceAbove.threshold' });
  if (t.sensitiveCategory?.enabled) {
    const s = t.sensitiveCategory;
    out.sensitiveCategory = {
      categories: new Set(s.categories),
      ...(s.sensitivityAtLeast === undefined ? {} : { sensitivityAtLeast: SENSITIVITIES.indexOf(s.sensitivityAtLeast) }),
    };
  }
  if (t.grantCapExceeded?.enabled) out.grantCapExceeded = true;
  const sets = (t.enterpriseExceptions ?? []).filter((e) => e.enabled);
  if (sets.length > 0) {
    out.enterpriseExceptions = sets.map((e) => ({ name: e.name, ...(e.description === undefined ? {} : { description: e.description }), approved: compileMatch(e.approved) }));
  }
  return out;
}
