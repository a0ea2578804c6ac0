/**
 * @module constants
 * Every documented bound of the core in one place. Relationships between them are asserted when the
 * module loads, so a change that breaks one fails at startup rather than in production.
 */

/** Micro-units per currency unit: 6 decimals, like USDC. */
export const MICROS_PER_UNIT = 1_000_000n;
/** Decimal places accepted when parsing money. */
export const MONEY_DECIMALS_MAX = 6;
/** Largest amount of one transfer or price: one billion currency units. */
export const AMOUNT_MICROS_MAX = 1_000_000_000n * MICROS_PER_UNIT;
/** Largest value a balance column may reach (Postgres BIGINT). */
export const BALANCE_MICROS_MAX = 2n ** 63n - 1n;
/** Longest id (account, transfer, call) in characters. */
export const ID_LENGTH_MAX = 200;
/** Most operations the ledger writer applies in one database transaction. */
export const LEDGER_BATCH_SIZE_MAX = 1_000;
/** Most transfers one `createTransfers` request may carry (a request is never split across batches). */
export const TRANSFERS_PER_REQUEST_MAX = 64;
/** Longest hold timeout, in seconds (one week). */
export const HOLD_TIMEOUT_SECONDS_MAX = 7 * 24 * 3600;
/** Largest page of a listing. */
export const PAGE_SIZE_MAX = 1_000;

// Balances can still grow past one amount; the ledger refuses those transfers (overflows_*).
if (AMOUNT_MICROS_MAX >= BALANCE_MICROS_MAX) {
  throw new Error('constants: one amount must fit in a balance column');
}
if (TRANSFERS_PER_REQUEST_MAX > LEDGER_BATCH_SIZE_MAX) {
  throw new Error('constants: a request must fit in one batch');
}
