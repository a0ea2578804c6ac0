/**
 * @module db/open
 * Opens the database named by a URL: `postgres://…` uses PostgreSQL; `memory://` an in-memory PGlite;
 * anything else is a PGlite data folder. Migrations run on open, so a fresh folder is ready at once.
 */
import type { Db } from './db.ts';
import { migrate } from './migrate.ts';
import { openPgliteDb } from './pglite.ts';
import { openPostgresDb } from './postgres.ts';

export interface OpenDbOptions {
  schema?: string;
  poolSize?: number;
  /** Skip migrations (a caller that runs them itself). */
  migrate?: boolean;
}

export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

export async function openDb(url: string, options: OpenDbOptions = {}): Promise<Db> {
  let db: Db;
  if (isPostgresUrl(url)) {
    db = await openPostgresDb({ url, ...options });
  } else if (url === 'memory://') {
    db = await openPgliteDb();
  } else {
    db = await openPgliteDb({ dataDir: url.replace(/^file:\/\//, '') });
  }
  if (options.migrate !== false) await migrate(db);
  return db;
}
