import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TtlCache } from './ttl-cache.ts';

function deferred<V>() {
  let resolve!: (v: V) => void;
  const promise = new Promise<V>((r) => (resolve = r));
  return { promise, resolve };
}

test('concurrent misses share one load; a hit past half its life is served while one reload runs', async () => {
  let now = 0;
  const cache = new TtlCache<number>({ ttlMs: 1_000, entriesMax: 10, now: () => now });
  let loads = 0;
  const first = deferred<number>();
  const a = cache.load('k', () => (loads++, first.promise));
  const b = cache.load('k', () => (loads++, Promise.resolve(-1)));
  first.resolve(1);
  assert.deepEqual([await a, await b], [1, 1]);
  assert.equal(loads, 1);

  now = 400;
  assert.equal(await cache.load('k', () => (loads++, Promise.resolve(2))), 1, 'young: no reload');
  assert.equal(loads, 1);

  now = 600;
  const reload = deferred<number>();
  assert.equal(await cache.load('k', () => (loads++, reload.promise)), 1, 'old: served at once');
  assert.equal(await cache.load('k', () => (loads++, Promise.resolve(3))), 1, 'one reload at a time');
  assert.equal(loads, 2);
  reload.resolve(2);
  await reload.promise;
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.get('k'), 2, 'the reload replaced the entry');
});

test('nothing older than the ttl is served: an expired entry waits for its load', async () => {
  let now = 0;
  const cache = new TtlCache<string>({ ttlMs: 1_000, entriesMax: 10, now: () => now });
  await cache.load('k', async () => 'old');
  now = 1_000;
  assert.equal(cache.get('k'), undefined);
  assert.equal(await cache.load('k', async () => 'new'), 'new');
});

test('a load that started before clear() never stores its (possibly stale) value', async () => {
  const cache = new TtlCache<string>({ ttlMs: 1_000, entriesMax: 10 });
  const slow = deferred<string>();
  const pending = cache.load('k', () => slow.promise);
  cache.clear();
  slow.resolve('before the revocation');
  assert.equal(await pending, 'before the revocation');
  assert.equal(cache.get('k'), undefined);
  assert.equal(await cache.load('k', async () => 'after'), 'after');
});

test('a failed background reload keeps the entry until it expires', async () => {
  let now = 0;
  const cache = new TtlCache<string>({ ttlMs: 1_000, entriesMax: 10, now: () => now });
  await cache.load('k', async () => 'v');
  now = 700;
  assert.equal(await cache.load('k', async () => Promise.reject(new Error('db down'))), 'v');
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.get('k'), 'v');
  now = 1_000;
  await assert.rejects(cache.load('k', async () => Promise.reject(new Error('db down'))), /db down/);
});
