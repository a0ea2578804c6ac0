import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { openRedis, redisReady } from '../redis.ts';
import { connectTestRedis, redisSkip, redisTestUrl, TcpGate, testKeyPrefix } from '../../test/support/redis.ts';
import { BufferedUsageSink, RedisStreamUsageSink } from './index.ts';
import { usageEvent } from './test-helpers.ts';

describe('Redis stream usage sink', { skip: redisSkip() }, () => {
  let redis: Redis;
  before(async () => {
    redis = await connectTestRedis();
  });
  after(() => redis.quit());

  test('appends one entry per event with every field, bigints as decimal strings', async () => {
    const stream = `${testKeyPrefix()}:usage`;
    const sink = new RedisStreamUsageSink({ redis, stream });
    await sink.writeBatch([usageEvent({ id: 'call_a', units: 3n, orgId: 'org_1' }), usageEvent({ status: 'refused', code: 'budget_exceeded', chargeMicros: 0n })]);
    const entries = await redis.xrange(stream, '-', '+');
    assert.equal(entries.length, 2);
    const first = Object.fromEntries(chunk(entries[0]![1]));
    assert.deepEqual(first, {
      id: 'call_a', at: '2026-11-22T00:00:00.000Z', edge: 'mcp', principal_id: 'usr_1', org_id: 'org_1', grant_id: 'grant_1', service: 'demo',
      tool: 'echo', status: 'ok', latency_ms: '13', units: '3', charge_micros: '10000',
    });
    assert.equal(Object.fromEntries(chunk(entries[1]![1])).code, 'budget_exceeded');
  });

  test('an event with an id is appended once however often it is delivered', async () => {
    const stream = `${testKeyPrefix()}:usage`;
    const sink = new RedisStreamUsageSink({ redis, stream });
    await sink.writeBatch([usageEvent({ id: 'call_1' }), usageEvent({ id: 'call_2' })]);
    await sink.writeBatch([usageEvent({ id: 'call_2' }), usageEvent({ id: 'call_3' })]);
    await Promise.all([sink.write(usageEvent({ id: 'call_4' })), sink.write(usageEvent({ id: 'call_4' }))]);
    const ids = (await redis.xrange(stream, '-', '+')).map(([, fields]) => Object.fromEntries(chunk(fields)).id);
    assert.deepEqual(ids, ['call_1', 'call_2', 'call_3', 'call_4']);
  });

  test('the stream is trimmed to about its length cap', async () => {
    const stream = `${testKeyPrefix()}:usage`;
    const sink = new RedisStreamUsageSink({ redis, stream, lengthMax: 100 });
    for (let i = 0; i < 10; i++) await sink.writeBatch(Array.from({ length: 100 }, () => usageEvent()));
    const length = await redis.xlen(stream);
    assert.ok(length >= 100 && length < 1_000, `length ${length}`);
  });

  test('Redis going away and coming back: buffered events all arrive, once each', async () => {
    const gate = TcpGate.forUrl(redisTestUrl()!);
    await gate.open();
    const gated = openRedis(gate.url);
    assert.ok(await redisReady(gated));
    const stream = `${testKeyPrefix()}:usage`;
    const sink = new BufferedUsageSink(new RedisStreamUsageSink({ redis: gated, stream }), { backoff: { baseMs: 5, delayMsMax: 50 } });
    await sink.write(usageEvent({ id: 'before' }));
    await sink.flush();
    await gate.close();
    for (let i = 0; i < 20; i++) await sink.write(usageEvent({ id: `during_${i}` }));
    for (let waited = 0; sink.failures === 0 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.ok(sink.failures > 0, 'writes failed while Redis was away');
    assert.equal(sink.pending, 20);
    await gate.open();
    const deadline = Date.now() + 10_000;
    while (sink.pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const ids = (await redis.xrange(stream, '-', '+')).map(([, fields]) => Object.fromEntries(chunk(fields)).id);
    assert.deepEqual(ids, ['before', ...Array.from({ length: 20 }, (_, i) => `during_${i}`)]);
    await sink.close();
    gated.disconnect();
    await gate.close();
  });
});

function chunk(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}
