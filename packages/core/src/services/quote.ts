/**
 * @module services/quote
 * Prices one call: the first price rule whose method and path match. A fixed rule holds and
 * charges its price; a per-unit rule holds `unitPrice × maxUnits` and charges the units used.
 */
import { parseMicros } from '../money.ts';
import { pathMatches } from './path-pattern.ts';
import type { PriceRule, UnitsSource } from './schemas.ts';

export interface Quote {
  /** Index of the matching rule in `service.prices`. */
  ruleIndex: number;
  rule: PriceRule;
  pricing: 'fixed' | 'usage';
  /** What to hold: the fixed price, or the most a usage-priced call can cost. */
  holdMicros: bigint;
  /** Per-unit rules only. */
  unitPriceMicros?: bigint;
  maxUnits?: number;
  units?: UnitsSource;
}

export function quote(service: { prices: readonly PriceRule[] }, method: string, path: string): Quote | undefined {
  const upper = method.toUpperCase();
  for (let i = 0; i < service.prices.length; i++) {
    const rule = service.prices[i]!;
    if (rule.method !== '*' && rule.method !== upper) continue;
    if (!pathMatches(rule.path, path)) continue;
    if (rule.type === 'fixed') return { ruleIndex: i, rule, pricing: 'fixed', holdMicros: parseMicros(rule.price, { field: 'price' }) };
    const unitPriceMicros = parseMicros(rule.unitPrice, { field: 'unitPrice' });
    return { ruleIndex: i, rule, pricing: 'usage', holdMicros: unitPriceMicros * BigInt(rule.maxUnits), unitPriceMicros, maxUnits: rule.maxUnits, units: rule.units };
  }
  return undefined;
}

/**
 * The amount to capture for `units` used under a usage quote. Units above the declared maximum
 * are charged at the maximum (the hold), never more; unknown units charge nothing.
 */
export function usageChargeMicros(q: Quote, units: bigint | undefined): bigint {
  if (q.pricing === 'fixed') return q.holdMicros;
  if (units === undefined || units <= 0n) return 0n;
  const capped = units > BigInt(q.maxUnits!) ? BigInt(q.maxUnits!) : units;
  return capped * q.unitPriceMicros!;
}
