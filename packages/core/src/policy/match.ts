/**
 * @module policy/match
 * Whether a call's facts satisfy one match, and why, in words. Conditions are checked in a fixed
 * order and the first that fails is the explanation, so a trace reads "vendor sel_9 is not one of
 * sel_1, sel_2" rather than a dump of every field.
 */
import { formatMicros } from '../money.ts';
import { SENSITIVITIES } from './schemas.ts';
import type { NameMatcher, PolicyFacts, PolicyMatch } from './types.ts';

export interface MatchResult {
  matched: boolean;
  why: string;
}

const SENSITIVITY_RANK: Readonly<Record<string, number>> = { low: 0, medium: 1, high: 2 };

export function sensitivityRank(level: string): number {
  // An unknown level from a newer registry counts as the highest, so it is treated as sensitive.
  return SENSITIVITY_RANK[level] ?? SENSITIVITIES.length - 1;
}

export function nameMatches(m: NameMatcher, name: string): boolean {
  if (m.any || m.exact.has(name)) return true;
  for (const prefix of m.prefixes) if (name.startsWith(prefix)) return true;
  return false;
}

function listed(values: Iterable<string>): string {
  return [...values].join(', ');
}

/** Checks every condition of `match` against `facts`; an empty match applies to every call. */
export function explainMatch(match: PolicyMatch, facts: PolicyFacts): MatchResult {
  const held: string[] = [];
  const s = facts.service;
  if (match.services) {
    if (!nameMatches(match.services, s.slug)) return miss(`service ${s.slug} is not ${listed(match.services.values)}`);
    held.push(`service ${s.slug}`);
  }
  if (match.vendors) {
    if (!match.vendors.has(s.sellerId)) return miss(`vendor ${s.sellerId} is not ${listed(match.vendors)}`);
    held.push(`vendor ${s.sellerId}`);
  }
  if (match.categories) {
    if (!match.categories.has(s.category)) return miss(`category ${s.category} is not ${listed(match.categories)}`);
    held.push(`category ${s.category}`);
  }
  if (match.tools) {
    if (!nameMatches(match.tools, facts.tool)) return miss(`tool ${facts.tool} is not ${listed(match.tools.values)}`);
    held.push(`tool ${facts.tool}`);
  }
  const price = priceCondition(match, facts.priceMicros);
  if (price !== undefined) {
    if (!price.matched) return price;
    held.push(price.why);
  }
  const sensitivity = sensitivityCondition(match, s.sensitivity);
  if (sensitivity !== undefined) {
    if (!sensitivity.matched) return sensitivity;
    held.push(sensitivity.why);
  }
  if (match.agents) {
    if (facts.agentId === null || !match.agents.has(facts.agentId)) return miss(`agent ${facts.agentId ?? '(none)'} is not ${listed(match.agents)}`);
    held.push(`agent ${facts.agentId}`);
  }
  return { matched: true, why: held.length === 0 ? 'applies to every call' : held.join(', ') };
}

function priceCondition(match: PolicyMatch, priceMicros: bigint): MatchResult | undefined {
  const { priceMinMicros: min, priceMaxMicros: max } = match;
  if (min === undefined && max === undefined) return undefined;
  const price = formatMicros(priceMicros);
  if (min !== undefined && priceMicros < min) return miss(`price ${price} is below ${formatMicros(min)}`);
  if (max !== undefined && priceMicros > max) return miss(`price ${price} is above ${formatMicros(max)}`);
  const bounds = [min === undefined ? '' : `≥ ${formatMicros(min)}`, max === undefined ? '' : `≤ ${formatMicros(max)}`].filter(Boolean).join(' and ');
  return { matched: true, why: `price ${price} ${bounds}` };
}

function sensitivityCondition(match: PolicyMatch, level: string): MatchResult | undefined {
  const { sensitivityMin: min, sensitivityMax: max } = match;
  if (min === undefined && max === undefined) return undefined;
  const rank = sensitivityRank(level);
  if (min !== undefined && rank < min) return miss(`sensitivity ${level} is below ${SENSITIVITIES[min]}`);
  if (max !== undefined && rank > max) return miss(`sensitivity ${level} is above ${SENSITIVITIES[max]}`);
  return { matched: true, why: `sensitivity ${level}` };
}

function miss(why: string): MatchResult {
  return { matched: false, why };
}
