/**
 * @module policy/schemas
 * The wire shape of policies, validated with zod. These are plain JSON shapes (no transforms), so
 * the admin API can turn them into OpenAPI with `z.toJSONSchema`; `compile.ts` turns a parsed value
 * into the evaluator's form (bigint prices, prepared patterns). Every message says what a valid
 * value looks like, and zod's issue path names the field (`rules.3.match.price.min`).
 */
import { z } from 'zod';
import {
  ENTERPRISE_EXCEPTIONS_MAX,
  MATCH_VALUES_MAX,
  POLICY_DESCRIPTION_LENGTH_MAX,
  POLICY_ID_LENGTH_MAX,
  POLICY_PRIORITY_MAX,
  POLICY_RULES_MAX,
} from './limits.ts';

export const POLICY_LEVELS = ['org', 'project', 'grant'] as const;
export const POLICY_EFFECTS = ['allow', 'deny', 'require_approval'] as const;
export const SENSITIVITIES = ['low', 'medium', 'high'] as const;

/** An error message that tells a missing field from a wrong one. */
const expect = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? `is required (${what})` : what) });

export const PolicyLevelSchema = z.enum(POLICY_LEVELS, expect('must be one of org, project, grant'));
export const PolicyEffectSchema = z.enum(POLICY_EFFECTS, expect('must be one of allow, deny, require_approval'));
export const SensitivitySchema = z.enum(SENSITIVITIES, expect('must be one of low, medium, high'));

const DECIMAL_FORMAT = /^(0|[1-9][0-9]{0,15})(\.[0-9]{1,6})?$/;

/** Largest price a rule or trigger can name: the largest amount of one transfer. */
const PRICE_MAX = '1000000000';

/** A decimal money string such as "0.25" (at most 6 decimals); compiled to micro-units. */
export const PriceStringSchema = z
  .string(expect('must be a decimal string such as "0.25"'))
  .regex(DECIMAL_FORMAT, 'must be a decimal amount such as "5.00" (no sign or exponent, at most 6 decimals)')
  .refine((v) => compareDecimal(v, PRICE_MAX) <= 0, `must be at most ${PRICE_MAX}`);

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const PATTERN = /^(\*|[A-Za-z0-9_.:/ -]+\*?)$/;

const value = z.string(expect('must be a string')).min(1, 'must not be empty').max(POLICY_ID_LENGTH_MAX, `must be at most ${POLICY_ID_LENGTH_MAX} characters`);
const pattern = value.regex(PATTERN, 'must be a name or a `prefix*` pattern (letters, digits, _ . : / - and space)');
const list = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1, 'must list at least one value (omit the field to match any)').max(MATCH_VALUES_MAX, `must list at most ${MATCH_VALUES_MAX} values`);

/** Inclusive price bounds: `min` ≤ price ≤ `max`. */
export const PriceRangeSchema = z
  .strictObject({ min: PriceStringSchema.optional(), max: PriceStringSchema.optional() })
  .refine((r) => r.min !== undefined || r.max !== undefined, { message: 'must set min, max or both' })
  .refine((r) => r.min === undefined || r.max === undefined || compareDecimal(r.min, r.max) <= 0, { message: 'must not be below min', path: ['max'] });

/** Inclusive sensitivity bounds in the order low < medium < high. */
export const SensitivityRangeSchema = z
  .strictObject({ min: SensitivitySchema.optional(), max: SensitivitySchema.optional() })
  .refine((r) => r.min !== undefined || r.max !== undefined, { message: 'must set min, max or both' })
  .refine((r) => r.min === undefined || r.max === undefined || SENSITIVITIES.indexOf(r.min) <= SENSITIVITIES.indexOf(r.max), { message: 'must not be below min', path: ['max'] });

/**
 * What a call must look like for a rule to apply. Every field given must hold (AND); inside a list
 * any value may match (OR); an empty match `{}` applies to every call.
 */
export const PolicyMatchSchema = z.strictObject({
  /** Service slugs, exact or `prefix*`. */
  services: list(pattern).optional(),
  /** Seller ids (the vendor of the service). */
  vendors: list(value).optional(),
  categories: list(value).optional(),
  /** MCP tool names or `METHOD /path`, exact or `prefix*`. */
  tools: list(pattern).optional(),
  price: PriceRangeSchema.optional(),
  sensitivity: SensitivityRangeSchema.optional(),
  agents: list(value).optional(),
}, { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object of conditions ({} matches every call)' : undefined) });
export type PolicyMatchInput = z.input<typeof PolicyMatchSchema>;

export const PolicyRuleSchema = z.strictObject({
  id: value.regex(RULE_ID, 'must start with a letter or digit and use only letters, digits, _ . : -').refine((id) => !id.startsWith('trigger:'), 'must not start with "trigger:" (reserved for built-in triggers)'),
  level: PolicyLevelSchema,
  description: z.string().max(POLICY_DESCRIPTION_LENGTH_MAX, `must be at most ${POLICY_DESCRIPTION_LENGTH_MAX} characters`).optional(),
  effect: PolicyEffectSchema,
  /** Use `{}` to match every call. */
  match: PolicyMatchSchema,
  /** Among rules of the same effect and level, the higher priority is named as the deciding rule. */
  priority: z.number().int('must be an integer').min(0).max(POLICY_PRIORITY_MAX).optional(),
});
export type PolicyRuleInput = z.input<typeof PolicyRuleSchema>;

export const PolicyRulesSchema = z
  .array(PolicyRuleSchema)
  .max(POLICY_RULES_MAX, `must have at most ${POLICY_RULES_MAX} rules`)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, i) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', message: `duplicates the id "${rule.id}" of an earlier rule`, path: [i, 'id'] });
      seen.add(rule.id);
    });
  });

const toggle = { enabled: z.boolean(expect('must be true or false')) };

/** A named set of what the enterprise has approved; a call outside it needs a person's yes. */
export const EnterpriseExceptionSchema = z.strictObject({
  ...toggle,
  name: value.regex(RULE_ID, 'must start with a letter or digit and use only letters, digits, _ . : -'),
  description: z.string().max(POLICY_DESCRIPTION_LENGTH_MAX).optional(),
  /** The approved calls: a call that does not match this needs approval. */
  approved: PolicyMatchSchema,
});

/** The built-in approval triggers of the product brief, each on or off per org. */
export const ApprovalTriggerSettingsSchema = z.strictObject({
  firstPaidCallInTask: z.strictObject({ ...toggle }).optional(),
  firstUseOfService: z.strictObject({ ...toggle }).optional(),
  /** Ask when the price is strictly above `threshold`. */
  priceAbove: z.strictObject({ ...toggle, threshold: PriceStringSchema }).optional(),
  /** Ask when the category is listed or the sensitivity is at least `sensitivityAtLeast`. */
  sensitiveCategory: z
    .strictObject({ ...toggle, categories: z.array(value).max(MATCH_VALUES_MAX).default([]), sensitivityAtLeast: SensitivitySchema.optional() })
    .refine((t) => t.categories.length > 0 || t.sensitivityAtLeast !== undefined, { message: 'must list categories or set sensitivityAtLeast', path: ['categories'] })
    .optional(),
  /** Ask to raise the grant's cap when it would be exceeded but the user's own limit has room. */
  grantCapExceeded: z.strictObject({ ...toggle }).optional(),
  enterpriseExceptions: z
    .array(EnterpriseExceptionSchema)
    .max(ENTERPRISE_EXCEPTIONS_MAX)
    .superRefine((sets, ctx) => {
      const seen = new Set<string>();
      sets.forEach((s, i) => {
        if (seen.has(s.name)) ctx.addIssue({ code: 'custom', message: `duplicates the name "${s.name}"`, path: [i, 'name'] });
        seen.add(s.name);
      });
    })
    .optional(),
});
export type ApprovalTriggerSettingsInput = z.input<typeof ApprovalTriggerSettingsSchema>;

/** A whole policy as stored and edited: rules, the org's triggers, and what happens when nothing matches. */
export const PolicySchema = z.strictObject({
  rules: PolicyRulesSchema.default([]),
  triggers: ApprovalTriggerSettingsSchema.default({}),
  /** Decision when no rule and no trigger applies. `allow`: the grant's own services already restrict. */
  defaultDecision: PolicyEffectSchema.default('allow'),
});
export type PolicyInput = z.input<typeof PolicySchema>;

/**
 * Compares two decimal strings without floats. zod runs refinements even after the format check
 * failed, so a malformed side compares as equal and only the format error is reported.
 */
function compareDecimal(a: string, b: string): number {
  if (!DECIMAL_FORMAT.test(a) || !DECIMAL_FORMAT.test(b)) return 0;
  const [aw = '0', af = ''] = a.split('.');
  const [bw = '0', bf = ''] = b.split('.');
  const x = BigInt(aw + af.padEnd(6, '0'));
  const y = BigInt(bw + bf.padEnd(6, '0'));
  return x < y ? -1 : x > y ? 1 : 0;
}
