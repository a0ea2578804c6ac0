/**
 * @module money
 * Prices are decimal strings with at most 6 decimals ("0.01"); arithmetic is done on integer
 * micro-units (bigint), never on floats.
 */

const DECIMAL = /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$/;

/** "0.015" → 15000n. Throws on anything that is not a plain decimal with ≤ 6 decimals. */
export function priceToMicros(price: string): bigint {
  if (!DECIMAL.test(price)) throw new Error(`price: "${price}" is not a decimal amount such as "0.01" (at most 6 decimals)`);
  const [whole, fraction = ''] = price.split('.');
  return BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
}

/** 15000n → "0.015" (at least two decimals). */
export function microsToPrice(micros: bigint): string {
  const whole = micros / 1_000_000n;
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${fraction}`;
}

/** The price of `units` at `unitPrice` each: `perUnit("0.001", 12)` → "0.012". */
export function perUnit(unitPrice: string, units: number): string {
  if (!Number.isSafeInteger(units) || units < 0) throw new Error('units: a non-negative integer');
  return microsToPrice(priceToMicros(unitPrice) * BigInt(units));
}
