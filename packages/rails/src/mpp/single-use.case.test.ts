/**
 * The single-use store: a key is claimed once until it expires, also when claims race, and (in the
 * database) across two stores standing for two gateway processes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testDatabases, type TestDb } from '@tollgate/core/testing';
import { MemorySingleUse, SqlSingleUse } from './single-use.ts';

describe('single-use store', () => {
  test('in memory: once per key until it expires; full of live keys refuses rather than forgets', async () => {
    let now = 1_000;
    const store = new MemorySingleUse({ now: () => now, entriesMax: 2 });
    const claims = await Promise.all(Array.from({ length: 10 }, () => store.claim('a', 2_000)));
    assert.equal(claims.filter(Boolean).length, 1);
    assert.equal(await store.claim('b', 2_000), true);
    assert.equal(await store.claim('c', 2_000), false, 'full of live keys');
    now = 2_001;
    assert.equal(await store.claim('a', 3_000), true, 'an expired key can be claimed again');
    assert.equal(await store.claim('c', 3_000), true, 'expired keys were swept');
  });

  for (const engine of testDatabases) {
    describe(`in the database (${engine.kind})`, { skip: engine.skip }, () => {
      let db: TestDb;
      before(async () => {
        db = await engine.open();
      });
      after(() => db.close());

      test('two processes racing for one key: exactly one wins; an expired key is taken over', async () => {
        const one = new SqlSingleUse(db);
        const two = new SqlSingleUse(db);
        const future = Date.now() + 60_000;
        const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).claim('challenge:x', future)));
        assert.equal(claims.filter(Boolean).length, 1);
        assert.equal(await one.claim('challenge:y', Date.now() - 1_000), true);
        assert.equal(await two.claim('challenge:y', future), true, 'its first claim had expired');
        assert.equal(await one.claim('challenge:y', future), false);
      });
    });
  }
});
