/**
 * @module db/migrate
 * One ordered list of migrations for both engines. Each runs once, in its own transaction, recorded
 * in `schema_migrations`; on Postgres an advisory lock keeps two processes from migrating at once.
 */
import type { Db } from './db.ts';
import { MIGRATIONS } from './migrations/index.ts';

export interface Migration {
  /** Stable, ordered id such as `001-ledger`; never renamed once released. */
  readonly id: string;
  readonly sql: string;
}

const MIGRATION_LOCK_KEY = 7_301_994_211;

export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  return db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ id: string }>('SELECT id FROM schema_migrations')).map((r) => r.id));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      applied.push(migration.id);
    }
    return applied;
  });
}
