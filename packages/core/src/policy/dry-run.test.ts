import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DRY_RUN_CALLS_MAX, dryRunPolicy, type RecordedFacts } from './index.ts';
import { callFacts, policyOf } from './test-facts.ts';

const recorded: RecordedFacts[] = [
  { ...callFacts(), callId: 'call_cheap' },
  { ...callFacts({ priceMicros: 6_000_000n }), callId: 'call_big' },
  { ...callFacts({ service: { slug: 'casino', category: 'gambling' } }), callId: 'call_bet' },
  { ...callFacts({ priceMicros: 9_000_000n, service: { slug: 'casino', category: 'gambling' } }), callId: 'call_big_bet' },
];

test('reports which recorded decisions change, from → to, with the deciding rule', () => {
  const before = policyOf({ rules: [{ id: 'no-bet', level: 'org', effect: 'deny', match: { categories: ['gambling'] } }] });
  const after = policyOf({
    rules: [{ id: 'no-bet', level: 'org', effect: 'require_approval', match: { categories: ['gambling'] } }],
    triggers: { priceAbove: { enabled: true, threshold: '5.00' } },
  });
  const report = dryRunPolicy(before, after, recorded);
  assert.equal(report.total, 4);
  assert.equal(report.changed, 3);
  assert.equal(report.unchanged, 1);
  assert.deepEqual(report.transitions, { 'allow->require_approval': 1, 'deny->require_approval': 2 });
  assert.deepEqual(report.changes.map((c) => [c.callId, c.from.decision, c.from.rule?.id, c.to.decision, c.to.rule?.id]), [
    ['call_big', 'allow', undefined, 'require_approval', 'trigger:price_above'],
    ['call_bet', 'deny', 'no-bet', 'require_approval', 'no-bet'],
    ['call_big_bet', 'deny', 'no-bet', 'require_approval', 'no-bet'],
  ]);
  assert.match(report.changes[0]!.to.reason, /above the approval threshold 5\.00/);
  assert.equal(report.truncated, false);
});

test('the same policy changes nothing; a new deciding rule is counted as reattributed', () => {
  const p = policyOf({ rules: [{ id: 'a', level: 'org', effect: 'deny', match: { categories: ['gambling'] } }] });
  assert.deepEqual(dryRunPolicy(p, p, recorded), { total: 4, changed: 0, unchanged: 4, reattributed: 0, transitions: {}, changes: [], truncated: false });
  const q = policyOf({ rules: [{ id: 'b', level: 'grant', effect: 'deny', match: { services: ['casino'] } }] });
  const report = dryRunPolicy(p, q, recorded);
  assert.equal(report.changed, 0);
  assert.equal(report.reattributed, 2);
});

test('bare rule lists work, and the replay is bounded', () => {
  assert.equal(dryRunPolicy([], policyOf({ defaultDecision: 'deny' }), recorded).transitions['allow->deny'], 4);
  assert.deepEqual(dryRunPolicy([], [], []).total, 0);
  const tooMany = Array.from({ length: DRY_RUN_CALLS_MAX + 1 }, () => callFacts());
  assert.throws(() => dryRunPolicy([], [], tooMany), /calls: a dry run replays at most/);
});

test('only the first changes are listed; every change is counted', () => {
  const many = Array.from({ length: 1_500 }, (_, i) => ({ ...callFacts(), callId: `c${i}` }));
  const report = dryRunPolicy([], policyOf({ defaultDecision: 'deny' }), many);
  assert.equal(report.changed, 1_500);
  assert.equal(report.changes.length, 1_000);
  assert.equal(report.truncated, true);
});
