import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { TollgateError } from '@tollgate/core';
import { testDatabases, type TestDb } from '@tollgate/core/testing';
import { openRedis, redisReady } from '../redis.ts';
import { closedPort, connectTestRedis, redisSkip, redisTestUrl, TcpGate, testKeyPrefix } from '../../test/support/redis.ts';
import { PostgresQuotaStore, Quotas, RedisQuotaStore, type QuotaLimit, type QuotaStore } from './index.ts';

/** A day-long window by default: a test never straddles a window boundary it does not mean to. */
const DAY = 86_400;
const calls = (limit: number, windowSeconds = DAY): QuotaLimit => ({ metric: 'calls', limit: BigInt(limit), windowSeconds });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof TollgateError) return error.code;
    throw error;
  }
}

/** The same behaviour from both stores. */
function storeContract(name: string, make: () => QuotaStore) {
  test(`${name}: of N concurrent calls exactly the quota get through`, async () => {
    const store = make();
    const results = await Promise.all(Array.from({ length: 60 }, () => store.consume('usr_race', calls(25), 1n)));
    assert.equal(results.filter((r) => r.allowed).length, 25);
    const refused = results.find((r) => !r.allowed);
    assert.ok(refused && !refused.allowed && refused.retryAfterMs > 0 && refused.retryAfterMs <= DAY * 1000, JSON.stringify(refused, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
    assert.equal(refused.used, 25n);
  });

  test(`${name}: principals and window lengths are counted apart`, async () => {
    const store = make();
    assert.equal((await store.consume('usr_a', calls(1), 1n)).allowed, true);
    assert.equal((await store.consume('usr_a', calls(1), 1n)).allowed, false);
    assert.equal((await store.consume('usr_b', calls(1), 1n)).allowed, true);
    assert.equal((await store.consume('usr_a', calls(1, DAY / 2), 1n)).allowed, true, 'a new window length starts a fresh count');
  });

  test(`${name}: a units quota asks before (cost 0) and counts after`, async () => {
    const store = make();
    const units: QuotaLimit = { metric: 'units', limit: 100n, windowSeconds: DAY };
    assert.equal((await store.consume('usr_u', units, 0n)).allowed, true);
    await store.add('usr_u', units, 60n);
    assert.equal((await store.consume('usr_u', units, 0n)).allowed, true, '60 of 100 used: still some left');
    await store.add('usr_u', units, 60n);
    const over = await store.consume('usr_u', units, 0n);
    assert.equal(over.allowed, false, '120 of 100 used');
    assert.equal(over.used, 120n);
  });

  test(`${name}: a zero quota refuses everything`, async () => {
    const store = make();
    assert.equal((await store.consume('usr_zero', calls(0), 1n)).allowed, false);
    assert.equal((await store.consume('usr_zero', { metric: 'units', limit: 0n, windowSeconds: DAY }, 0n)).allowed, false);
  });
}

describe('quotas in Redis', { skip: redisSkip() }, () => {
  let redis: Redis;
  before(async () => {
    redis = await connectTestRedis();
  });
  after(() => redis.quit());

  storeContract('redis fixed', () => new RedisQuotaStore({ redis, prefix: testKeyPrefix() }));
  storeContract('redis sliding', () => new RedisQuotaStore({ redis, prefix: testKeyPrefix(), algorithm: 'sliding' }));

  test('a sliding window still counts the last window; a fixed one starts over', async () => {
    const fixed = new RedisQuotaStore({ redis, prefix: testKeyPrefix() });
    const sliding = new RedisQuotaStore({ redis, prefix: testKeyPrefix(), algorithm: 'sliding' });
    const quota = calls(10, 2);
    // Start right after a window boundary (by Redis's clock), so the whole run stays in two windows.
    await sleepUntilWindowStart(redis, 2_000);
    for (let i = 0; i < 10; i++) {
      assert.equal((await fixed.consume('usr_s', quota, 1n)).allowed, true);
      assert.equal((await sliding.consume('usr_s', quota, 1n)).allowed, true);
    }
    await sleepUntilWindowStart(redis, 2_000);
    const fixedNext = await Promise.all(Array.from({ length: 10 }, () => fixed.consume('usr_s', quota, 1n)));
    const slidingNext = await Promise.all(Array.from({ length: 10 }, () => sliding.consume('usr_s', quota, 1n)));
    assert.equal(fixedNext.filter((r) => r.allowed).length, 10);
    const allowed = slidingNext.filter((r) => r.allowed).length;
    assert.ok(allowed >= 1 && allowed < 10, `sliding allowed ${allowed} right after the boundary`);
  });

  test('Redis unreachable: the check fails closed with quota_unavailable (503)', async () => {
    const down = openRedis(`redis://127.0.0.1:${await closedPort()}`);
    const quotas = new Quotas({ db: {} as never, store: new RedisQuotaStore({ redis: down }), defaultLimit: calls(100) });
    quotas.limitFor = async () => calls(100);
    const error = await quotas.check('usr_x').catch((e: unknown) => e);
    assert.ok(error instanceof TollgateError);
    assert.equal(error.code, 'quota_unavailable');
    assert.equal(error.status, 503);
    assert.equal(error.toProblem().code, 'quota_unavailable');
    down.disconnect();
  });

  test('Redis going away mid-run fails closed, and quotas work again when it is back', async () => {
    const gate = TcpGate.forUrl(redisTestUrl()!);
    await gate.open();
    const gated = openRedis(gate.url);
    assert.ok(await redisReady(gated));
    const quotas = new Quotas({ db: {} as never, store: new RedisQuotaStore({ redis: gated, prefix: testKeyPrefix() }) });
    quotas.limitFor = async () => calls(100);
    assert.equal(await codeOf(quotas.check('usr_g')), 'ok');
    await gate.close();
    assert.equal(await codeOf(quotas.check('usr_g')), 'quota_unavailable');
    await gate.open();
    assert.ok(await redisReady(gated, 10_000), 'reconnected');
    assert.equal(await codeOf(quotas.check('usr_g')), 'ok');
    gated.disconnect();
    await gate.close();
  });
});

for (const engine of testDatabases) {
  describe(`quotas in the database on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb;
    before(async () => {
      db = await engine.open();
    });
    after(async () => {
      await db.close();
    });

    storeContract('postgres', () => new PostgresQuotaStore(db));

    test('a principal\'s own quota wins over the default; removing it brings the default back', async () => {
      const quotas = new Quotas({ db, store: new PostgresQuotaStore(db), defaultLimit: calls(2) });
      await quotas.set('usr_own', calls(1));
      assert.equal(await codeOf(quotas.check('usr_own')), 'ok');
      const refused = await quotas.check('usr_own').catch((e: unknown) => e);
      assert.ok(refused instanceof TollgateError && refused.code === 'quota_exceeded');
      assert.equal(refused.status, 429);
      assert.deepEqual({ ...refused.data, retryAfterSeconds: typeof refused.data.retryAfterSeconds }, { metric: 'calls', limit: '1', used: '1', windowSeconds: DAY, retryAfterSeconds: 'number' });
      assert.equal(await quotas.remove('usr_own'), true);
      assert.equal(await codeOf(quotas.check('usr_own')), 'ok', 'default of 2: one more');
      assert.equal(await codeOf(quotas.check('usr_own')), 'quota_exceeded');
      assert.equal(await codeOf(quotas.check('usr_nobody_set')), 'ok');
    });

    test('units of a capture older than the window are not counted (late history does not fill today\'s window)', async () => {
      const quotas = new Quotas({ db, store: new PostgresQuotaStore(db) });
      await quotas.set('usr_late', { metric: 'units', limit: 10n, windowSeconds: DAY });
      await quotas.recordUnits('usr_late', 50n, new Date(Date.now() - 2 * DAY * 1000));
      assert.equal(await codeOf(quotas.check('usr_late')), 'ok');
      await quotas.recordUnits('usr_late', 10n, new Date());
      assert.equal(await codeOf(quotas.check('usr_late')), 'quota_exceeded');
    });

    test('windows that are over are pruned; a long window still running is kept', async () => {
      const store = new PostgresQuotaStore(db);
      const yearMs = 366 * DAY * 1000;
      const yearStart = Math.floor(Date.now() / yearMs) * yearMs;
      await db.query(`INSERT INTO quota_counters (principal_id, metric, window_start_ms, used) VALUES ('usr_old', 'calls:60', 1000, 5), ('usr_long', 'calls:${366 * DAY}', ${yearStart}, 5)`);
      assert.ok((await store.prune(3600)) >= 1);
      assert.deepEqual(await db.query("SELECT principal_id FROM quota_counters WHERE principal_id IN ('usr_old', 'usr_long')"), [{ principal_id: 'usr_long' }]);
    });
  });
}

async function sleepUntilWindowStart(redis: Redis, windowMs: number): Promise<void> {
  const [seconds, micros] = await redis.time();
  const nowMs = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  await new Promise((r) => setTimeout(r, windowMs - (nowMs % windowMs) + 20));
}
