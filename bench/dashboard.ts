/**
 * @module bench/dashboard
 * How long the dashboard's overview takes with N recorded calls (default 100,000): seeds a fresh
 * database with the synthetic history `tollgate serve --seed-calls` makes (real, hash-chained audit
 * records over 45 days), then times the whole overview (the grouped scan plus the limits) and the
 * seller series, with the covering indexes of migration 007 and again without them. PGlite by
 * default; PostgreSQL when TOLLGATE_TEST_DATABASE_URL is set (there the table is VACUUM ANALYZEd
 * after seeding, as autovacuum would, so index-only scans are possible). Prints figures; never
 * pass/fail. Last line: `{"bench":"dashboard",...}`.
 *
 *   npx tsx bench/dashboard.ts [calls]
 */
import { randomUUID } from 'node:crypto';
import { openTollgate, ServiceRegistry, type Tollgate } from '../packages/core/src/index.ts';
import { pgliteTestDatabase, postgresTestDatabase, seedBuyer } from '../packages/core/src/testing/index.ts';
import { overview } from '../packages/server/src/dashboard/overview.ts';
import { sellerSeries } from '../packages/server/src/dashboard/seller.ts';
import { seedCalls } from '../packages/server/src/dashboard/seed-calls.ts';

const CALLS = Number(process.argv[2] ?? 100_000);
const RUNS = 7;

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; max: number }> {
  await fn(); // warm caches and plans
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await fn();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  return { p50: Math.round(ms[Math.floor(RUNS / 2)]!), max: Math.round(ms.at(-1)!) };
}

async function measure(tg: Tollgate, orgId: string): Promise<{ overview: { p50: number; max: number }; seller: { p50: number; max: number } }> {
  return { overview: await time(() => overview(tg, orgId)), seller: await time(() => sellerSeries(tg, 'sel_bench', 30)) };
}

const engine = process.env.TOLLGATE_TEST_DATABASE_URL ? postgresTestDatabase : pgliteTestDatabase;
const db = await engine.open();
const tg = await openTollgate({ db });
const buyer = await seedBuyer(tg, { orgMonthly: '1000000.00', userMonthly: '500000.00' });
const services = new ServiceRegistry({ db, upstreams: { allowLoopback: true, allowPrivate: false, allowHosts: [] } });
const slugs = ['search', 'summarize', 'ticker', 'research'];
for (const [i, slug] of slugs.entries()) {
  await services.create({ slug, baseUrl: 'http://127.0.0.1:9', sellerId: 'sel_bench', prices: [{ method: 'GET', path: '/**', type: 'fixed', price: ['0.01', '0.05', '0.02', '2.50'][i]! }] });
}
const seedStarted = performance.now();
await seedCalls({ db, services, count: CALLS, orgId: buyer.orgId, userId: buyer.userId, grantId: null, agentIds: [buyer.agentId, `agt_${randomUUID().slice(0, 8)}`], serviceSlugs: slugs });
const seedSeconds = (performance.now() - seedStarted) / 1000;
if (db.kind === 'postgres') await db.query('VACUUM ANALYZE audit_records');
else await db.query('ANALYZE audit_records');

const indexed = await measure(tg, buyer.orgId);
const sample = await overview(tg, buyer.orgId);
await db.query('DROP INDEX audit_records_org_created');
await db.query('DROP INDEX audit_records_seller_created');
await db.query('ANALYZE audit_records');
const plain = await measure(tg, buyer.orgId);

console.log(`dashboard bench on ${db.kind}: ${CALLS.toLocaleString('en-US')} recorded calls (seeded in ${seedSeconds.toFixed(1)} s); ${sample.month.calls.toLocaleString('en-US')} this month`);
console.log(`  overview (grouped scan + limits), p50 / max of ${RUNS}:  with migration 007 indexes ${indexed.overview.p50} / ${indexed.overview.max} ms;  without ${plain.overview.p50} / ${plain.overview.max} ms`);
console.log(`  seller series (30 days),            p50 / max of ${RUNS}:  with ${indexed.seller.p50} / ${indexed.seller.max} ms;  without ${plain.seller.p50} / ${plain.seller.max} ms`);
console.log(JSON.stringify({ bench: 'dashboard', engine: db.kind, calls: CALLS, overview_ms_p50: indexed.overview.p50, overview_ms_max: indexed.overview.max, overview_ms_p50_without_indexes: plain.overview.p50, seller_ms_p50: indexed.seller.p50, seller_ms_p50_without_indexes: plain.seller.p50 }));
await tg.close();
await db.close();
