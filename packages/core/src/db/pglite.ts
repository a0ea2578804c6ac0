/**
 * @module db/pglite
 * The embedded store: PGlite in memory (tests) or in a data folder (the default server). PGlite has a
 * single connection, so its transactions run one at a time; `transaction()` is exclusive.
 */
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { setLocalSql, type Db, type Queryable } from './db.ts';

const parsers = { 20: (value: string) => BigInt(value) };

/**
 * PGlite resolves query promises without passing through the macrotask queue, so a busy caller can
 * starve timers and sockets. Yielding once per statement keeps the event loop fair.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function wrap(run: Pick<PGlite, 'query' | 'exec'>): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
      const result = await run.query<R>(sql, params as unknown[]);
      await yieldToEventLoop();
      return result.rows;
    },
    async exec(sql: string): Promise<void> {
      await run.exec(sql);
    },
  };
}

export interface PgliteDbOptions {
  /** Data folder; omit for an in-memory database. */
  dataDir?: string;
  /** A dump from `dumpDataDir()` to start from (tests use a migrated template). */
  loadDataDir?: Blob | File;
}

export async function openPgliteDb(options: PgliteDbOptions = {}): Promise<Db & { readonly pglite: PGlite }> {
  const config: PGliteOptions = { parsers };
  if (options.loadDataDir) config.loadDataDir = options.loadDataDir;
  const pglite = options.dataDir ? await PGlite.create(options.dataDir, config) : await PGlite.create(config);
  const direct = wrap(pglite);
  return {
    kind: 'pglite',
    pglite,
    query: direct.query,
    exec: direct.exec,
    transaction: (fn, options) => {
      const settings = setLocalSql(options?.settings);
      return pglite.transaction(async (tx) => {
        if (settings) await tx.exec(settings);
        return fn(wrap(tx));
      });
    },
    close: () => pglite.close(),
  };
}
