import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreparedNames } from './prepared.ts';

test('one name per distinct SQL text, stable, and none past the cap', () => {
  const names = new PreparedNames(2);
  const a = names.nameOf('SELECT $1::int');
  const b = names.nameOf('SELECT $1::text');
  assert.ok(a && b && a !== b);
  assert.equal(names.nameOf('SELECT $1::int'), a);
  assert.equal(names.nameOf('SELECT $1::bigint'), undefined, 'a third text runs unprepared');
  assert.equal(names.nameOf('SELECT $1::text'), b, 'texts named before the cap keep their names');
});
