/**
 * @module db/postgres
 * PostgreSQL through a `pg` pool. The pool is small on purpose: on hot rows a bigger pool only
 * lengthens the lock convoy (reference/groupcommit.md: pool 4 beat pool 64).
 */
import pg from 'pg';
import { setLocalSql, type Db, type Queryable } from './db.ts';
import { PreparedNames } from './prepared.ts';

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => BigInt(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export interface PostgresDbOptions {
  url: string;
  /** Schema to use (created if missing); tests give each run its own. */
  schema?: string;
  poolSize?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export async function openPostgresDb(options: PostgresDbOptions): Promise<Db & { readonly pool: pg.Pool }> {
  const { url, schema, poolSize = 8 } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${JSON.stringify(schema)}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types,
    // A statement is sent without waiting for the one before it to answer; in a transaction,
    // statements issued together (`Promise.all`) cost one round trip, and still run in order.
    pipeline: true,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  } as pg.PoolConfig);
  // An idle client that loses its server emits 'error'; without a listener that would crash the process.
  pool.on('error', () => {});
  const statements = new PreparedNames();
  const run = async <R extends object>(client: pg.Pool | pg.PoolClient, sql: string, params: readonly unknown[] = []) => {
    const name = params.length > 0 ? statements.nameOf(sql) : undefined;
    return (await (name ? client.query({ name, text: sql, values: params as unknown[] }) : client.query(sql, params as unknown[]))).rows as R[];
  };
  return {
    kind: 'postgres',
    pool,
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => {
      await pool.query(sql);
    },
    async transaction(fn, options) {
      // The settings ride in the BEGIN's round trip (one simple-protocol query, no parameters).
      const begin = `BEGIN; ${setLocalSql(options?.settings)}`;
      const client = await pool.connect();
      const cork = corkEachTick(client);
      const tx: Queryable = {
        query: (sql, params) => {
          cork();
          return run(client, sql, params);
        },
        exec: async (sql) => {
          cork();
          await client.query(sql);
        },
      };
      // BEGIN is not waited for: the transaction's first statements follow it in the same write
      // (the client pipelines), and its answer is checked before COMMIT.
      cork();
      const begun = client.query(begin);
      try {
        const result = await fn(tx);
        await begun;
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await begun.catch(() => {});
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * Holds a client's socket writes until the end of the current tick, so statements issued together
 * leave in one write (one system call, one wake-up of the server) instead of one each.
 */
function corkEachTick(client: pg.PoolClient): () => void {
  const stream = (client as unknown as { connection: { stream: { cork(): void; uncork(): void } } }).connection.stream;
  let corked = false;
  return () => {
    if (corked) return;
    corked = true;
    stream.cork();
    process.nextTick(() => {
      corked = false;
      stream.uncork();
    });
  };
}
