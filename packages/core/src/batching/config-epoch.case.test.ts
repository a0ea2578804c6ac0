import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgresDb } from '../db/postgres.ts';
import { Policies } from '../policy/store.ts';
import { testDatabases } from '../testing/index.ts';
import { CONFIG_FRESH_MS, ConfigEpoch } from './config-epoch.ts';
import { TtlCache } from './ttl-cache.ts';

for (const engine of testDatabases) {
  describe(`config epoch on ${engine.kind}`, { skip: engine.skip }, () => {
    test('a write to any cached table, by any code path, moves the generation once it is read again', async () => {
      const db = await engine.open();
      try {
        let now = 0;
        const epoch = new ConfigEpoch(db, () => now);
        const g0 = await epoch.current();
        let reads = 0;
        const cache = new TtlCache<number>({ ttlMs: 60_000, entriesMax: 10, now: () => now, generations: epoch });
        const load = async () => ++reads;
        assert.equal(await cache.load('k', load), 1);

        // Another process's write: raw SQL, nothing in this process is told.
        await db.query(`INSERT INTO policy_sets (scope_kind, scope_id, rules) VALUES ('grant', 'g1', '[]')`);
        now = CONFIG_FRESH_MS / 4;
        assert.equal(await epoch.current(), g0, 'read recently: no new read yet');
        assert.equal(await cache.load('k', load), 1, 'served from the cache until the epoch is read again');

        now = CONFIG_FRESH_MS;
        const g1 = await epoch.current();
        assert.notEqual(g1, g0);
        assert.equal(await cache.load('k', load), 2, 'the change dropped the entry');

        for (const sql of [
          `UPDATE orgs SET settings = settings`,
          `UPDATE grants SET tag = tag`,
          `DELETE FROM service_limits`,
          `DELETE FROM quota_limits`,
          `UPDATE users SET monthly_limit_micros = monthly_limit_micros`,
        ]) {
          const before = await epoch.current();
          await db.query(sql);
          now += CONFIG_FRESH_MS;
          assert.notEqual(await epoch.current(), before, `${sql} moves the epoch`);
        }

        const quiet = await epoch.current();
        await db.query(`SELECT count(*) FROM calls`);
        now += CONFIG_FRESH_MS;
        assert.equal(await epoch.current(), quiet, 'reads and hot-path tables do not');
      } finally {
        await db.close();
      }
    });

    test('concurrent callers share one read of the epoch', async () => {
      const db = await engine.open();
      try {
        let reads = 0;
        const counting = Object.assign(Object.create(db), {
          query: (sql: string, params?: unknown[]) => {
            if (sql.includes('config_epoch')) reads++;
            return db.query(sql, params);
          },
        });
        const epoch = new ConfigEpoch(counting, () => 0);
        await Promise.all(Array.from({ length: 20 }, () => epoch.current()));
        assert.equal(reads, 1);
        await epoch.current();
        assert.equal(reads, 1, 'fresh: answered without a read');
      } finally {
        await db.close();
      }
    });
  });
}

describe('config epoch across processes (PostgreSQL)', { skip: testDatabases[1]!.skip }, () => {
  test("a policy set in one process applies in another within the freshness bound", async () => {
    const db = await testDatabases[1]!.open();
    // A second pool on the same schema stands for a second server process.
    const other = await openPostgresDb({ url: db.url!, schema: db.schema! });
    try {
      const here = new Policies(db);
      const there = new Policies(other);
      const scope = { orgId: 'org_x', projectId: null, grantId: 'g_x' };
      assert.equal((await there.load(scope)).rules.length, 0);
      await here.setRules('grant', 'g_x', [{ id: 'deny-all', level: 'grant', effect: 'deny', match: {} }]);
      await new Promise((resolve) => setTimeout(resolve, CONFIG_FRESH_MS + 50));
      assert.equal((await there.load(scope)).rules.length, 1, 'the other process sees the new rule');
    } finally {
      await other.close();
      await db.close();
    }
  });
});
