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

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Runs `fn` in one transaction (READ COMMITTED); commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Postgres type OIDs whose text form must become a bigint. */
export const BIGINT_OIDS = [20 /* int8 */] as const;
