import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backoffDelayMs, BufferedUsageSink, CompositeUsageSink, JsonLinesUsageSink, MemoryUsageSink, type UsageEvent, type UsageSink } from './index.ts';
import { usageEvent as event, FlakySink } from './test-helpers.ts';

test('memory sink keeps the newest events up to its cap', async () => {
  const sink = new MemoryUsageSink(2);
  for (const tool of ['a', 'b', 'c']) await sink.write(event({ tool }));
  assert.deepEqual(sink.events.map((e) => e.tool), ['b', 'c']);
});

test('memory sink keeps an event with an id once', async () => {
  const sink = new MemoryUsageSink();
  await sink.writeBatch([event({ id: 'call_1' }), event({ id: 'call_2' }), event({ id: 'call_1' })]);
  assert.deepEqual(sink.events.map((e) => e.id), ['call_1', 'call_2']);
  assert.equal(sink.duplicates, 1);
});

test('JSON Lines sink writes one object per line with bigints as strings', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'usage-')), 'usage.jsonl');
  const sink = new JsonLinesUsageSink(path);
  await Promise.all([sink.write(event()), sink.writeBatch([event({ status: 'refused', code: 'budget_exceeded', chargeMicros: 0n, units: 3n })])]);
  const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.chargeMicros, '10000');
  assert.deepEqual([lines[1]!.status, lines[1]!.code, lines[1]!.units, lines[1]!.chargeMicros], ['refused', 'budget_exceeded', '3', '0']);
});

test('JSON Lines sink rejects the caller whose append failed, and the next append still works', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'usage-'));
  const bad = new JsonLinesUsageSink(join(dir, 'missing-folder', 'usage.jsonl'));
  await assert.rejects(bad.write(event()), /ENOENT/);
  const good = new JsonLinesUsageSink(join(dir, 'usage.jsonl'));
  await good.write(event());
  assert.equal(readFileSync(join(dir, 'usage.jsonl'), 'utf8').trim().split('\n').length, 1);
});

test('a failing sink does not stop the others or the call', async () => {
  const good = new MemoryUsageSink();
  const meter = new CompositeUsageSink([{ write: async () => { throw new Error('disk full'); } }, good]);
  await meter.write(event());
  assert.equal(meter.failures, 1);
  assert.equal(good.events.length, 1);
});

test('backoff grows exponentially, is jittered, is capped and believes Retry-After', () => {
  const top = { baseMs: 100, delayMsMax: 5_000, random: () => 0.999999 };
  assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelayMs(a, top)), [100, 200, 400, 800]);
  assert.equal(backoffDelayMs(20, top), 5_000);
  assert.equal(backoffDelayMs(3, { ...top, random: () => 0.5 }), 200);
  assert.equal(backoffDelayMs(1, { ...top, random: () => 0 }), 0);
  assert.equal(backoffDelayMs(1, top, 3_000), 3_000, 'Retry-After wins when longer');
  assert.equal(backoffDelayMs(1, top, 60_000), 5_000, 'but never past the cap');
});

test('a buffered sink never blocks or fails the writer, and loses nothing when its sink fails then recovers', async () => {
  const flaky = new FlakySink({ failFirst: 3 });
  const sink = new BufferedUsageSink(flaky, { backoff: { baseMs: 1, delayMsMax: 5 }, batchMax: 7 });
  const events = Array.from({ length: 50 }, (_, i) => event({ tool: `t${i}` }));
  for (const e of events) await sink.write(e);
  await waitFor(() => sink.pending === 0);
  assert.ok(sink.failures >= 3, `failures: ${sink.failures}`);
  assert.deepEqual(flaky.taken.map((e) => e.tool), events.map((e) => e.tool), 'every event once, in order');
  assert.equal(sink.dropped, 0);
  await sink.close();
});

test('a buffered sink over a one-at-a-time sink does not resend what it took before failing', async () => {
  const taken: UsageEvent[] = [];
  let calls = 0;
  const inner: UsageSink = { write: async (e) => {
    if (++calls === 3) throw new Error('blip');
    taken.push(e);
  } };
  const sink = new BufferedUsageSink(inner, { backoff: { baseMs: 1, delayMsMax: 2 } });
  const events = Array.from({ length: 5 }, (_, i) => event({ tool: `t${i}` }));
  for (const e of events) await sink.write(e);
  await waitFor(() => sink.pending === 0);
  assert.deepEqual(taken.map((e) => e.tool), ['t0', 't1', 't2', 't3', 't4']);
});

test('a buffered sink drops the oldest past its cap, counts them, and flush returns while its sink is down', async () => {
  const flaky = new FlakySink({ failFirst: Number.POSITIVE_INFINITY });
  const sink = new BufferedUsageSink(flaky, { bufferMax: 10, backoff: { baseMs: 60_000 } });
  for (let i = 0; i < 25; i++) await sink.write(event({ tool: `t${i}` }));
  await sink.flush();
  assert.equal(sink.pending, 10);
  assert.ok(sink.dropped >= 14, `dropped ${sink.dropped}`);
  flaky.failFirst = 0;
  await sink.flush();
  assert.equal(sink.pending, 0, 'flush retries at once instead of waiting out the backoff');
  assert.equal(flaky.taken.at(-1)!.tool, 't24', 'the newest events are kept');
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
