/**
 * The live feed on every database engine: concurrent first subscribers share one poller, every new
 * audit record reaches each subscriber in scope exactly once (also when records arrive faster than
 * the poll interval), and nothing is delivered once the last subscriber has left.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTollgate, ServiceRegistry } from '@tollgate/core';
import { seedBuyer, testDatabases } from '@tollgate/core/testing';
import { LiveFeed, type FeedCall } from './live-feed.ts';
import { seedCalls } from './seed-calls.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const engine of testDatabases) {
  describe(`live feed on ${engine.kind}`, { skip: engine.skip }, () => {
    test('each record once per subscriber in scope; one poller for concurrent subscribers; silence after the last leaves', async () => {
      const db = await engine.open();
      const tg = await openTollgate({ db });
      try {
        const buyer = await seedBuyer(tg);
        const services = new ServiceRegistry({ db, upstreams: { allowLoopback: true, allowPrivate: false, allowHosts: [] } });
        await services.create({ slug: 'search', baseUrl: 'http://127.0.0.1:9', sellerId: 'sel_feed', prices: [{ type: 'fixed', price: '0.01' }] });
        const feed = new LiveFeed(db, { pollMs: 10 });
        const seen = { a: [] as FeedCall[], b: [] as FeedCall[], other: [] as FeedCall[] };
        const subscriber = (into: FeedCall[], orgId: string) => ({ scope: { orgId }, onCall: (c: FeedCall) => into.push(c), onApprovals: () => {} });
        const [offA, offB, offOther] = await Promise.all([
          feed.subscribe(subscriber(seen.a, buyer.orgId)),
          feed.subscribe(subscriber(seen.b, buyer.orgId)),
          feed.subscribe(subscriber(seen.other, 'org_elsewhere')),
        ]);
        assert.equal(feed.subscribers, 3);
        const common = { db, services, orgId: buyer.orgId, userId: buyer.userId, grantId: null, agentIds: [buyer.agentId], serviceSlugs: ['search'], days: 1 };
        await seedCalls({ ...common, count: 300 });
        for (let i = 0; i < 200 && seen.a.length < 300; i++) await sleep(25);
        await sleep(100);
        for (const list of [seen.a, seen.b]) {
          assert.equal(list.length, 300);
          assert.equal(new Set(list.map((c) => c.seq)).size, 300, 'no record twice');
        }
        assert.equal(seen.other.length, 0, 'another org sees nothing');
        offA();
        offB();
        offOther();
        assert.equal(feed.subscribers, 0);
        // Seeding is once per database; a second history needs the marker gone.
        await db.query("DELETE FROM settings WHERE key = 'dashboard_seed_calls'");
        await seedCalls({ ...common, count: 5 });
        await sleep(100);
        assert.equal(seen.a.length, 300, 'nothing after unsubscribing');
        await feed.close();
      } finally {
        await tg.close();
        await db.close();
      }
    });
  });
}
