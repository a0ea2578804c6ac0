export type { Db, DbKind, Queryable, TransactionOptions } from './db.ts';
export { openDb, isPostgresUrl, type OpenDbOptions } from './open.ts';
export { openPgliteDb, type PgliteDbOptions } from './pglite.ts';
export { openPostgresDb, type PostgresDbOptions } from './postgres.ts';
export { migrate, type Migration } from './migrate.ts';
