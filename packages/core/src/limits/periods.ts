/**
 * @module limits/periods
 * Calendar periods (UTC) that name limit accounts. Calendar windows are simpler to audit than rolling
 * ones: a month's spend is one account's balance.
 */

export function monthKey(at: Date): string {
  return at.toISOString().slice(0, 7);
}

export function dayKey(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function minuteKey(at: Date): string {
  return at.toISOString().slice(0, 16);
}
