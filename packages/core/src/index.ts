/**
 * @module @tollgate/core
 * Money, the ledger engine and its stores, grants, policy, the budget guard, approvals and the audit
 * record. No HTTP framework, no rail: edges and rails depend on this package, never the reverse.
 */
export * as constants from './constants.ts';
export { TollgateError, ERROR_STATUS, invalid, jsonSafe, type ErrorCode, type ProblemDetails } from './errors.ts';
export { parseMicros, assertMicros, formatMicros, parseCurrency, parseMoney, formatMoney, money, type Money, type ParseOptions } from './money.ts';
export { openDb, openPgliteDb, openPostgresDb, migrate, isPostgresUrl, type Db, type DbKind, type Queryable, type Migration, type OpenDbOptions } from './db/index.ts';
export * from './ledger/index.ts';
