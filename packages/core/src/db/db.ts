/**
 * @module db
 * One small interface over the two Postgres engines Tollgate runs on: PGlite (Postgres in WASM,
 * in-process, the embedded default) and PostgreSQL through `pg`. The same SQL runs on both; int8
 * and numeric come back as `bigint` on both, so money never passes through a JS number.
 */

/** Something that runs one SQL statement with `$n` parameters. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type DbKind = 'pglite' | 'postgres';

export interface TransactionOptions {
  /** Settings for this transaction only (`SET LOCAL name = value`), e.g. `{ enable_seqscan: 'off' }`. */
  readonly settings?: Readonly<Record<string, string>>;
}

const SETTING_NAME = /^[a-z_][a-z0-9_.]*$/;
const SETTING_VALUE = /^[a-z0-9_.]+$/;

/** The `SET LOCAL` statements for `settings` ('' for none); names and values are checked, never quoted. */
export function setLocalSql(settings: Readonly<Record<string, string>> = {}): string {
  return Object.entries(settings)
    .map(([name, value]) => {
      if (!SETTING_NAME.test(name) || !SETTING_VALUE.test(value)) throw new Error(`invalid transaction setting ${JSON.stringify(name)} = ${JSON.stringify(value)}`);
      return `SET LOCAL ${name} = ${value};`;
    })
    .join(' ');
}

export interface Db extends Queryable {
  readonly kind: DbKind;
  /**
   * Runs `fn` in one transaction (READ COMMITTED); commits when it resolves, rolls back when it
   * throws. Statements `fn` issues without waiting for each other (`Promise.all`) run in the order
   * issued; on PostgreSQL they are pipelined into one round trip, and a failure in one fails the
   * ones after it and the transaction.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/** Postgres type OIDs whose text form must become a bigint. */
export const BIGINT_OIDS = [20 /* int8 */] as const;
