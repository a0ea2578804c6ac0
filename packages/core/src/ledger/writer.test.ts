import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writer, type WriterRequest } from './writer.ts';

interface Req extends WriterRequest<string> {
  name: string;
}

function harness(options: { batchSizeMax?: number; failWhen?: (names: string[]) => boolean } = {}) {
  const batches: string[][] = [];
  const writer = new Writer<Req>(async (requests) => {
    const names = requests.map((r) => r.name);
    batches.push(names);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (options.failWhen?.(names)) throw new Error(`poisoned: ${names.join(',')}`);
    return names.map((n) => `ok:${n}`);
  }, options.batchSizeMax === undefined ? {} : { batchSizeMax: options.batchSizeMax });
  const submit = (name: string, size = 1) =>
    new Promise<string>((resolve, reject) => writer.submit({ name, size, resolve: resolve as (r: unknown) => void, reject }));
  return { writer, batches, submit };
}

test('an idle writer starts at once; requests arriving meanwhile share the next batch', async () => {
  const { batches, submit } = harness();
  const results = await Promise.all(['a', 'b', 'c', 'd'].map((n) => submit(n)));
  assert.deepEqual(results, ['ok:a', 'ok:b', 'ok:c', 'ok:d']);
  assert.deepEqual(batches, [['a'], ['b', 'c', 'd']]);
});

test('a batch holds at most batchSizeMax events and never splits a request', async () => {
  const { batches, submit } = harness({ batchSizeMax: 5 });
  await Promise.all([submit('first'), submit('x', 3), submit('y', 3), submit('z', 2), submit('big', 9)]);
  assert.deepEqual(batches, [['first'], ['x'], ['y', 'z'], ['big']]);
});

test('a failing batch is bisected in order until only the poison request fails', async () => {
  const { batches, submit, writer } = harness({ failWhen: (names) => names.includes('poison') });
  const outcomes = await Promise.allSettled(['a', 'b', 'c', 'poison', 'd', 'e'].map((n) => submit(n)));
  assert.deepEqual(
    outcomes.map((o) => (o.status === 'fulfilled' ? o.value : 'rejected')),
    ['ok:a', 'ok:b', 'ok:c', 'rejected', 'ok:d', 'ok:e'],
  );
  // Order is kept: every committed sub-batch comes before the ones after it.
  const committed = batches.filter((b) => !b.includes('poison')).flat();
  assert.deepEqual(committed, ['a', 'b', 'c', 'd', 'e']);
  assert.ok(writer.stats.bisects > 0);
  await writer.idle();
});
