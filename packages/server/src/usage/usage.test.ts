import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLinesUsageSink, MemoryUsageSink, UsageMeter, type UsageEvent } from './index.ts';

const event = (over: Partial<UsageEvent> = {}): UsageEvent => ({
  at: new Date('2026-11-22T00:00:00Z'), edge: 'mcp', principalId: 'usr_1', grantId: 'grant_1', service: 'demo', tool: 'echo',
  status: 'ok', latencyMs: 12.5, chargeMicros: 10_000n, ...over,
});

test('memory sink keeps the newest events up to its cap', async () => {
  const sink = new MemoryUsageSink(2);
  for (const tool of ['a', 'b', 'c']) await sink.write(event({ tool }));
  assert.deepEqual(sink.events.map((e) => e.tool), ['b', 'c']);
});

test('JSON Lines sink writes one object per line with bigints as strings', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'usage-')), 'usage.jsonl');
  const sink = new JsonLinesUsageSink(path);
  await Promise.all([sink.write(event()), sink.write(event({ status: 'refused', code: 'budget_exceeded', chargeMicros: 0n, units: 3n }))]);
  const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.chargeMicros, '10000');
  assert.deepEqual([lines[1]!.status, lines[1]!.code, lines[1]!.units, lines[1]!.chargeMicros], ['refused', 'budget_exceeded', '3', '0']);
});

test('a failing sink does not stop the others or the call', async () => {
  const good = new MemoryUsageSink();
  const meter = new UsageMeter([{ write: async () => { throw new Error('disk full'); } }, good]);
  await meter.write(event());
  assert.equal(meter.failures, 1);
  assert.equal(good.events.length, 1);
});
