import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabases } from '../testing/index.ts';

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
        const migrated = await db.query<{ id: string }>('SELECT id FROM schema_migrations');
        assert.ok(migrated.length >= 1);
      } finally {
        await db.close();
      }
    });
  });
}
