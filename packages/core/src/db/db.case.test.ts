import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../testing/index.ts';
import { setLocalSql } from './db.ts';

test('transaction settings are checked, never spliced in raw', () => {
  assert.equal(setLocalSql({ enable_seqscan: 'off', work_mem: '4mb' }), 'SET LOCAL enable_seqscan = off; SET LOCAL work_mem = 4mb;');
  assert.equal(setLocalSql(), '');
  assert.throws(() => setLocalSql({ 'enable_seqscan = off; DROP TABLE t; --': 'x' }), /invalid transaction setting/);
  assert.throws(() => setLocalSql({ enable_seqscan: "off'; DROP TABLE t" }), /invalid transaction setting/);
});

for (const engine of testDatabases) {
  describe(`db on ${engine.kind}`, { skip: engine.skip }, () => {
    test('bigint round-trips and transactions roll back on error', async () => {
      const db = await engine.open();
      try {
        await db.exec('CREATE TABLE t (id text PRIMARY KEY, v bigint NOT NULL)');
        await db.query('INSERT INTO t VALUES ($1, $2)', ['a', 9_007_199_254_740_993n]);
        const rows = await db.query<{ v: bigint }>('SELECT v FROM t');
        assert.equal(rows[0]?.v, 9_007_199_254_740_993n);
        await assert.rejects(
          db.transaction(async (tx) => {
            await tx.query('INSERT INTO t VALUES ($1, $2)', ['b', 1n]);
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal((await db.query('SELECT * FROM t')).length, 1);
        const setting = await db.transaction((tx) => tx.query<{ enable_seqscan: string }>('SHOW enable_seqscan'), { settings: { enable_seqscan: 'off' } });
        assert.equal(setting[0]?.enable_seqscan, 'off');
        assert.equal((await db.query<{ enable_seqscan: string }>('SHOW enable_seqscan'))[0]?.enable_seqscan, 'on', 'SET LOCAL ends with its transaction');
        const migrated = await db.query<{ id: string }>('SELECT id FROM schema_migrations');
        assert.ok(migrated.length >= 1);
      } finally {
        await db.close();
      }
    });

    test('statements issued together in a transaction run in order, and one failure rolls back all of them', async () => {
      const db = await engine.open();
      try {
        await db.exec('CREATE TABLE q (id int PRIMARY KEY, v text NOT NULL)');
        const seen = await db.transaction(async (tx) => {
          const [, , read] = await Promise.all([
            tx.query('INSERT INTO q VALUES ($1, $2)', [1, 'a']),
            tx.query('UPDATE q SET v = $1 WHERE id = $2', ['b', 1]),
            tx.query<{ v: string }>('SELECT v FROM q WHERE id = $1', [1]),
          ]);
          return read[0]?.v;
        });
        assert.equal(seen, 'b', 'the read saw both writes before it');
        await assert.rejects(db.transaction((tx) => Promise.all([
          tx.query('INSERT INTO q VALUES ($1, $2)', [2, 'c']),
          tx.query('INSERT INTO q VALUES ($1, $2)', [1, 'duplicate']),
          tx.query('INSERT INTO q VALUES ($1, $2)', [3, 'd']),
        ])), /duplicate key|unique/);
        assert.deepEqual((await db.query<{ id: number }>('SELECT id FROM q ORDER BY id')).map((r) => r.id), [1], 'nothing of the failed transaction stayed');
        // The connection is clean for the next transaction.
        assert.equal((await db.transaction((tx) => tx.query<{ n: number }>('SELECT count(*)::int AS n FROM q')))[0]?.n, 1);
      } finally {
        await db.close();
      }
    });

    // PGlite runs in-process with nothing to prepare; this is about the `pg` pool.
    if (engine.kind === 'postgres') test('statements with parameters are prepared once per connection; the cap and schema changes do not break them', async () => {
      const db = await engine.open();
      try {
        await db.exec('CREATE TABLE p (id text PRIMARY KEY, v bigint NOT NULL)');
        const prepared = await db.transaction(async (tx) => {
          await tx.query('INSERT INTO p VALUES ($1, $2)', ['a', 1n]);
          await tx.query('INSERT INTO p VALUES ($1, $2)', ['b', 2n]);
          return tx.query<{ statement: string }>(`SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO p %'`);
        });
        assert.equal(prepared.length, 1, 'the second execution reused the first one\'s statement');
        // Far more distinct texts than the cap: the rest run unprepared and still answer.
        for (let i = 0; i < 600; i++) assert.equal((await db.query<{ n: bigint }>(`SELECT $1::bigint + ${i} AS n`, [1n]))[0]?.n, BigInt(i + 1));
        const select = 'SELECT * FROM p WHERE id = ANY($1::text[]) ORDER BY id';
        for (let i = 0; i < 10; i++) await db.query(select, [['a']]);
        await db.exec('ALTER TABLE p ADD COLUMN note text');
        const rows = await db.query<{ id: string; note: string | null }>(select, [['a', 'b']]);
        assert.deepEqual(rows.map((r) => [r.id, r.note]), [['a', null], ['b', null]]);
      } finally {
        await db.close();
      }
    });
  });
}
