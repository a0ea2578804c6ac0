/**
 * @module money
 * Money is an integer count of micro-units (6 decimals, like USDC) with a currency code. It is
 * parsed from and printed as a decimal string with string arithmetic only: a JS `number` never
 * carries an amount, so no value is ever rounded.
 */
import { AMOUNT_MICROS_MAX, MICROS_PER_UNIT, MONEY_DECIMALS_MAX } from './constants.ts';
import { TollgateError } from './errors.ts';

export interface Money {
  readonly micros: bigint;
  readonly currency: string;
}

export interface ParseOptions {
  /** Name of the input, used in error messages (e.g. `price`, `total_cap`). */
  field?: string;
  /** Whether zero is acceptable (a free tool); defaults to true. */
  allowZero?: boolean;
  /** Upper bound in micro-units; defaults to `AMOUNT_MICROS_MAX`. */
  maxMicros?: bigint;
}

const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
const CURRENCY = /^[A-Z][A-Z0-9]{2,9}$/;

function refuse(field: string, input: unknown, why: string): TollgateError {
  return new TollgateError('invalid_amount', `${field}: ${why} (got ${describe(input)})`, { field });
}

function describe(input: unknown): string {
  if (typeof input === 'string') return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
  if (typeof input === 'bigint') return `${input}n`;
  if (typeof input === 'number') return `number ${input}`;
  return typeof input;
}

/**
 * Parses a decimal amount ("0.001", "5.00", "12") into micro-units. Refuses numbers (floats lose
 * precision before they reach us), exponent notation, signs, more than 6 decimals, and values above
 * the maximum. Each error names the field and the input.
 */
export function parseMicros(input: unknown, options: ParseOptions = {}): bigint {
  const field = options.field ?? 'amount';
  const max = options.maxMicros ?? AMOUNT_MICROS_MAX;
  if (typeof input !== 'string') {
    throw refuse(field, input, 'must be a decimal string such as "0.25", not a number, so no precision is lost');
  }
  const text = input.trim();
  if (text.startsWith('-')) throw refuse(field, input, 'must not be negative');
  const match = DECIMAL.exec(text);
  if (!match) throw refuse(field, input, 'must be a plain decimal such as "0.25" (no sign, exponent or separators)');
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > MONEY_DECIMALS_MAX) {
    throw refuse(field, input, `has more than ${MONEY_DECIMALS_MAX} decimal places`);
  }
  if (whole.length > 16) throw refuse(field, input, `exceeds the maximum ${formatMicros(max)}`);
  const micros = BigInt(whole) * MICROS_PER_UNIT + BigInt(fraction.padEnd(MONEY_DECIMALS_MAX, '0'));
  if (micros > max) throw refuse(field, input, `exceeds the maximum ${formatMicros(max)}`);
  if (micros === 0n && options.allowZero === false) throw refuse(field, input, 'must be greater than zero');
  return micros;
}

/**
 * Checks an amount that is already in micro-units (from code, not from a user): a non-negative
 * bigint within the maximum.
 */
export function assertMicros(value: unknown, options: ParseOptions = {}): bigint {
  const field = options.field ?? 'amount';
  const max = options.maxMicros ?? AMOUNT_MICROS_MAX;
  if (typeof value !== 'bigint') throw refuse(field, value, 'must be a bigint count of micro-units');
  if (value < 0n) throw refuse(field, value, 'must not be negative');
  if (value > max) throw refuse(field, value, `exceeds the maximum ${formatMicros(max)}`);
  if (value === 0n && options.allowZero === false) throw refuse(field, value, 'must be greater than zero');
  return value;
}

/** Prints micro-units as an exact decimal with at least two places: 1500n → "0.0015", 5000000n → "5.00". */
export function formatMicros(micros: bigint): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const whole = abs / MICROS_PER_UNIT;
  let fraction = (abs % MICROS_PER_UNIT).toString().padStart(MONEY_DECIMALS_MAX, '0').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** Parses a currency code such as "USD" or "USDC". */
export function parseCurrency(input: unknown, field = 'currency'): string {
  if (typeof input !== 'string' || !CURRENCY.test(input)) {
    throw new TollgateError('invalid_request', `${field}: must be an upper-case code such as "USD" (got ${describe(input)})`, { field });
  }
  return input;
}

export function money(micros: bigint, currency = 'USD'): Money {
  return { micros: assertMicros(micros), currency: parseCurrency(currency) };
}

export function parseMoney(input: unknown, currency = 'USD', options: ParseOptions = {}): Money {
  return { micros: parseMicros(input, options), currency: parseCurrency(currency) };
}

export function formatMoney(value: Money): string {
  return `${formatMicros(value.micros)} ${value.currency}`;
}
