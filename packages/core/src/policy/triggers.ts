/**
 * @module policy/triggers
 * The built-in approval triggers of the product brief. Each is a pseudo-rule with effect
 * `require_approval` at org level and an id `trigger:<name>`, evaluated in the same pass as the
 * rules and reported in the same trace. Only enabled triggers are considered (and traced).
 * The "paid" triggers (first paid call in a task, first use of a service) ignore free calls.
 */
import { formatMicros } from '../money.ts';
import { explainMatch, sensitivityRank } from './match.ts';
import { SENSITIVITIES } from './schemas.ts';
import type { ApprovalAsk, ApprovalTriggers, PolicyFacts } from './types.ts';

export interface TriggerResult {
  ruleId: string;
  matched: boolean;
  why: string;
  /** What approving this trigger allows. */
  ask: ApprovalAsk;
}

const CALL: ApprovalAsk = { scope: 'call' };

/** Every enabled trigger's verdict on one call, in a fixed order. */
export function evaluateTriggers(t: ApprovalTriggers, facts: PolicyFacts): TriggerResult[] {
  const out: TriggerResult[] = [];
  if (t.firstPaidCallInTask) out.push(firstPaidCallInTask(facts));
  if (t.firstUseOfService) out.push(firstUseOfService(facts));
  if (t.priceAboveMicros !== undefined) out.push(priceAbove(t.priceAboveMicros, facts));
  if (t.sensitiveCategory) out.push(sensitiveCategory(t.sensitiveCategory, facts));
  if (t.grantCapExceeded) out.push(grantCapExceeded(facts));
  for (const set of t.enterpriseExceptions ?? []) {
    const inside = explainMatch(set.approved, facts);
    const about = set.description ? ` (${set.description})` : '';
    out.push({
      ruleId: `trigger:enterprise_exception:${set.name}`,
      matched: !inside.matched,
      why: inside.matched ? `inside the approved set ${set.name}: ${inside.why}` : `outside the approved set ${set.name}${about}: ${inside.why}`,
      ask: CALL,
    });
  }
  return out;
}

function firstPaidCallInTask(f: PolicyFacts): TriggerResult {
  const ruleId = 'trigger:first_paid_call_in_task';
  if (f.taskId === null) return { ruleId, matched: false, why: 'the call belongs to no task', ask: CALL };
  if (f.priceMicros === 0n) return { ruleId, matched: false, why: 'the call is free', ask: CALL };
  if (!f.isFirstPaidCallInTask) return { ruleId, matched: false, why: `task ${f.taskId} already has a paid call`, ask: CALL };
  return { ruleId, matched: true, why: `this is the first paid call in task ${f.taskId}`, ask: CALL };
}

function firstUseOfService(f: PolicyFacts): TriggerResult {
  const ruleId = 'trigger:first_use_of_service';
  const slug = f.service.slug;
  if (f.priceMicros === 0n) return { ruleId, matched: false, why: 'the call is free', ask: CALL };
  if (f.orgHasPaidService) return { ruleId, matched: false, why: `the org has paid for ${slug} before`, ask: CALL };
  return { ruleId, matched: true, why: `the org has never paid for the service ${slug}`, ask: CALL };
}

function priceAbove(thresholdMicros: bigint, f: PolicyFacts): TriggerResult {
  const price = formatMicros(f.priceMicros);
  const limit = formatMicros(thresholdMicros);
  const matched = f.priceMicros > thresholdMicros;
  return { ruleId: 'trigger:price_above', matched, why: matched ? `the price ${price} is above the approval threshold ${limit}` : `the price ${price} is within the approval threshold ${limit}`, ask: CALL };
}

function sensitiveCategory(s: NonNullable<ApprovalTriggers['sensitiveCategory']>, f: PolicyFacts): TriggerResult {
  const ruleId = 'trigger:sensitive_category';
  const { category, sensitivity } = f.service;
  if (s.categories.has(category)) return { ruleId, matched: true, why: `the category ${category} is marked sensitive`, ask: CALL };
  if (s.sensitivityAtLeast !== undefined && sensitivityRank(sensitivity) >= s.sensitivityAtLeast) {
    return { ruleId, matched: true, why: `the service's sensitivity ${sensitivity} is at least ${SENSITIVITIES[s.sensitivityAtLeast]}`, ask: CALL };
  }
  return { ruleId, matched: false, why: `the category ${category} (sensitivity ${sensitivity}) is not marked sensitive`, ask: CALL };
}

/** Over the grant's cap but within the user's own limit: a person may raise the cap instead of failing. */
function grantCapExceeded(f: PolicyFacts): TriggerResult {
  const ruleId = 'trigger:grant_cap_exceeded';
  const price = formatMicros(f.priceMicros);
  const grantLeft = f.grantRemainingMicros;
  if (grantLeft === null) return { ruleId, matched: false, why: 'the grant has no total cap', ask: CALL };
  if (f.priceMicros <= grantLeft) return { ruleId, matched: false, why: `the grant has ${formatMicros(grantLeft)} left, enough for ${price}`, ask: CALL };
  const userLeft = f.userRemainingMicros;
  if (userLeft !== null && f.priceMicros > userLeft) {
    return { ruleId, matched: false, why: `the user's own limit has only ${formatMicros(userLeft)} left, so raising the grant's cap would not help`, ask: CALL };
  }
  const raiseMicros = f.priceMicros - grantLeft;
  return {
    ruleId,
    matched: true,
    why: `the call costs ${price} but the grant has only ${formatMicros(grantLeft)} left; the user's limit has room, so the cap can be raised by ${formatMicros(raiseMicros)}`,
    ask: { scope: 'raise_cap', raiseMicros },
  };
}
