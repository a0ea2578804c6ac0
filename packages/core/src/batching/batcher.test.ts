import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from './batcher.ts';

test('a lone item runs at once; concurrent items share batches in submission order', async () => {
  const batches: number[][] = [];
  const batcher = new Batcher<number, number>(async (items) => {
    batches.push([...items]);
    await new Promise((r) => setTimeout(r, 5));
    return items.map((i) => i * 2);
  }, { sizeMax: 3 });
  assert.equal(await batcher.submit(1), 2);
  const results = await Promise.all([2, 3, 4, 5, 6].map((i) => batcher.submit(i)));
  assert.deepEqual(results, [4, 6, 8, 10, 12]);
  assert.deepEqual(batches, [[1], [2], [3, 4, 5], [6]]);
});

test('a failing batch rejects its own items only', async () => {
  const batcher = new Batcher<number, number>(async (items) => {
    if (items.includes(13)) throw new Error('unlucky');
    return [...items];
  }, { sizeMax: 1 });
  const settled = await Promise.allSettled([12, 13, 14].map((i) => batcher.submit(i)));
  assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled']);
});

test('a runner that returns the wrong number of results is an error, not a silent mismatch', async () => {
  const batcher = new Batcher<number, number>(async () => [], { sizeMax: 10 });
  await assert.rejects(batcher.submit(1), /returned 0 results for 1/);
});

test('refuses a nonsensical size', () => {
  assert.throws(() => new Batcher(async (i) => i, { sizeMax: 0 }), /sizeMax/);
});
