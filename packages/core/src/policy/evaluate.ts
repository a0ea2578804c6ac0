/**
 * @module policy/evaluate
 * `evaluatePolicy(policy, facts)`: one pure pass over every rule and enabled trigger.
 *
 * Precedence (see README):
 * 1. The strongest effect among everything that matched wins: deny > require_approval > allow.
 *    No rule can loosen another, at any level: an org's deny cannot be allowed away by a grant.
 * 2. Among matches of that effect, the deciding (named) one is the most specific level
 *    (grant > project > org), then the higher priority, then an explicit rule before a built-in
 *    trigger, then the earlier position.
 * 3. Nothing matched: the policy's default decision (`allow` unless configured).
 *
 * An approval in the facts answers the require_approval rules and triggers it covers: they are
 * traced as matched and `satisfiedBy` the approval, and do not decide. It never answers a deny.
 */
import type { ApprovalAsk, ApprovalFact, Policy, PolicyDecision, PolicyEffect, PolicyFacts, PolicyLevel, PolicyRule, TraceEntry } from './types.ts';
import { explainMatch } from './match.ts';
import { evaluateTriggers } from './triggers.ts';

const EFFECT_RANK: Readonly<Record<PolicyEffect, number>> = { allow: 0, require_approval: 1, deny: 2 };
const LEVEL_RANK: Readonly<Record<PolicyLevel, number>> = { org: 0, project: 1, grant: 2 };

interface Candidate {
  id: string;
  level: PolicyLevel;
  effect: PolicyEffect;
  priority: number;
  builtIn: boolean;
  order: number;
  why: string;
  description?: string;
  ask: ApprovalAsk;
}

const CALL: ApprovalAsk = { scope: 'call' };

/** Decides one call. Never throws on a compiled policy; a bare rule list means no triggers, default allow. */
export function evaluatePolicy(policy: Policy | readonly PolicyRule[], facts: PolicyFacts): PolicyDecision {
  const p = asPolicy(policy);
  const trace: TraceEntry[] = [];
  const asking: Candidate[] = [];
  let best: Candidate | undefined;
  const consider = (c: Candidate, entry: TraceEntry): void => {
    trace.push(entry);
    if (!entry.matched) return;
    if (c.effect === 'require_approval' && covers(facts.approval, c.id)) {
      entry.satisfiedBy = facts.approval!.id;
      return;
    }
    if (c.effect === 'require_approval') asking.push(c);
    if (best === undefined || outranks(c, best)) best = c;
  };
  p.rules.forEach((rule, order) => {
    const m = explainMatch(rule.match, facts);
    const c: Candidate = { id: rule.id, level: rule.level, effect: rule.effect, priority: rule.priority, builtIn: false, order, why: m.why, ask: CALL };
    if (rule.description !== undefined) c.description = rule.description;
    consider(c, { ruleId: rule.id, level: rule.level, matched: m.matched, effect: rule.effect, why: m.why });
  });
  evaluateTriggers(p.triggers, facts).forEach((t, order) => {
    const c: Candidate = { id: t.ruleId, level: 'org', effect: 'require_approval', priority: 0, builtIn: true, order, why: t.why, ask: t.ask };
    consider(c, { ruleId: t.ruleId, level: 'org', matched: t.matched, effect: 'require_approval', why: t.why });
  });
  if (best === undefined) return byDefault(p.defaultDecision, facts, trace);
  const decided: PolicyDecision = { decision: best.effect, rule: { id: best.id, level: best.level }, reason: sentence(best), trace };
  if (best.effect === 'require_approval') decided.ask = askFor(asking);
  return decided;
}

function asPolicy(policy: Policy | readonly PolicyRule[]): Policy {
  return isRuleList(policy) ? { rules: policy, triggers: {}, defaultDecision: 'allow' } : policy;
}

function isRuleList(policy: Policy | readonly PolicyRule[]): policy is readonly PolicyRule[] {
  return Array.isArray(policy);
}

function covers(approval: ApprovalFact | undefined, id: string): boolean {
  if (approval === undefined) return false;
  return approval.covers === 'all' || approval.covers.includes(id);
}

/** Whether candidate `a` decides over `b` (see the module header for the order). */
function outranks(a: Candidate, b: Candidate): boolean {
  if (a.effect !== b.effect) return EFFECT_RANK[a.effect] > EFFECT_RANK[b.effect];
  if (a.level !== b.level) return LEVEL_RANK[a.level] > LEVEL_RANK[b.level];
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.builtIn !== b.builtIn) return !a.builtIn;
  return a.order < b.order;
}

/** One approval answers every rule and trigger that asked; a cap raise is included when one asked for it. */
function askFor(asking: readonly Candidate[]): NonNullable<PolicyDecision['ask']> {
  const raise = asking.find((c) => c.ask.scope === 'raise_cap');
  const ids = asking.map((c) => c.id);
  return raise?.ask.raiseMicros !== undefined ? { scope: 'raise_cap', raiseMicros: raise.ask.raiseMicros, covers: ids } : { scope: 'call', covers: ids };
}

function byDefault(effect: PolicyEffect, facts: PolicyFacts, trace: TraceEntry[]): PolicyDecision {
  const answered = trace.filter((e) => e.satisfiedBy !== undefined).map((e) => e.ruleId);
  const approvalNote = answered.length > 0 ? `approval ${facts.approval!.id} answered ${answered.join(', ')}; ` : '';
  if (effect === 'require_approval' && covers(facts.approval, 'default')) {
    return { decision: 'allow', reason: capitalize(`${approvalNote}approval ${facts.approval!.id} answered the default, which asks a person`) + '.', trace };
  }
  const reason = capitalize(`${approvalNote}no ${answered.length > 0 ? 'other ' : ''}rule or trigger applies, so the default decision (${effect}) holds`) + '.';
  const decided: PolicyDecision = { decision: effect, reason, trace };
  if (effect === 'require_approval') decided.ask = { scope: 'call', covers: ['default'] };
  return decided;
}

const VERB: Readonly<Record<PolicyEffect, string>> = { allow: 'allows', deny: 'denies', require_approval: 'requires approval for' };

function sentence(c: Candidate): string {
  if (c.builtIn) return `A person must approve this call: ${c.why}.`;
  const about = c.description ? `: ${c.description.replace(/\.$/, '')}` : '';
  return `${capitalize(c.level)} rule ${c.id} ${VERB[c.effect]} this call (${c.why})${about}.`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
