import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy, type ApprovalTriggerSettingsInput } from './index.ts';
import { callFacts, policyOf, type FactsOverrides } from './test-facts.ts';

type Case = {
  name: string;
  id: string;
  settings: ApprovalTriggerSettingsInput;
  fires: FactsOverrides;
  why: RegExp;
};

const CASES: Case[] = [
  { name: 'first paid call in a task', id: 'trigger:first_paid_call_in_task', settings: { firstPaidCallInTask: { enabled: true } }, fires: { isFirstPaidCallInTask: true }, why: /first paid call in task task_1/ },
  { name: 'first use of a service', id: 'trigger:first_use_of_service', settings: { firstUseOfService: { enabled: true } }, fires: { orgHasPaidService: false }, why: /never paid for the service search/ },
  { name: 'price above a threshold', id: 'trigger:price_above', settings: { priceAbove: { enabled: true, threshold: '1.00' } }, fires: { priceMicros: 1_000_001n }, why: /1\.000001 is above the approval threshold 1\.00/ },
  { name: 'sensitive category (listed)', id: 'trigger:sensitive_category', settings: { sensitiveCategory: { enabled: true, categories: ['medical'] } }, fires: { service: { category: 'medical' } }, why: /category medical is marked sensitive/ },
  { name: 'sensitive category (level)', id: 'trigger:sensitive_category', settings: { sensitiveCategory: { enabled: true, sensitivityAtLeast: 'medium' } }, fires: { service: { sensitivity: 'medium' } }, why: /sensitivity medium is at least medium/ },
  { name: 'grant cap exceeded, user has room', id: 'trigger:grant_cap_exceeded', settings: { grantCapExceeded: { enabled: true } }, fires: { grantRemainingMicros: 40_000n }, why: /grant has only 0\.04 left.*raised by 0\.06/ },
  {
    name: 'enterprise exception (vendor not approved)',
    id: 'trigger:enterprise_exception:vendors',
    settings: { enterpriseExceptions: [{ enabled: true, name: 'vendors', description: 'approved vendor list', approved: { vendors: ['sel_1', 'sel_2'] } }] },
    fires: { service: { sellerId: 'sel_9' } },
    why: /outside the approved set vendors \(approved vendor list\): vendor sel_9 is not sel_1, sel_2/,
  },
];

for (const c of CASES) {
  test(`trigger ${c.name}: fires on its own, stays quiet otherwise, and is off when disabled`, () => {
    const on = policyOf({ triggers: c.settings });
    const fired = evaluatePolicy(on, callFacts(c.fires));
    assert.equal(fired.decision, 'require_approval');
    assert.deepEqual(fired.rule, { id: c.id, level: 'org' });
    assert.match(fired.reason, /^A person must approve this call: /);
    assert.match(fired.reason, c.why);
    assert.ok(fired.ask?.covers.includes(c.id));
    assert.deepEqual(fired.trace.filter((e) => e.matched).map((e) => e.ruleId), [c.id], 'no other trigger fired');

    const quiet = evaluatePolicy(on, callFacts());
    assert.equal(quiet.decision, 'allow');
    assert.equal(quiet.trace.find((e) => e.ruleId === c.id)?.matched, false, 'traced as considered but not matched');

    const off = policyOf({ triggers: disable(c.settings) });
    const skipped = evaluatePolicy(off, callFacts(c.fires));
    assert.equal(skipped.decision, 'allow');
    assert.equal(skipped.trace.length, 0, 'a disabled trigger is not considered');

    const approved = evaluatePolicy(on, callFacts({ ...c.fires, approval: { id: 'apr_1', covers: [c.id] } }));
    assert.equal(approved.decision, 'allow', 'an approval for this trigger satisfies it');
    assert.equal(approved.trace.find((e) => e.ruleId === c.id)?.satisfiedBy, 'apr_1');
  });
}

function disable(settings: ApprovalTriggerSettingsInput): ApprovalTriggerSettingsInput {
  return JSON.parse(JSON.stringify(settings), (_k, v) => (v && typeof v === 'object' && 'enabled' in v ? { ...v, enabled: false } : v));
}

test('the paid triggers ignore free calls and calls outside a task', () => {
  const p = policyOf({ triggers: { firstPaidCallInTask: { enabled: true }, firstUseOfService: { enabled: true } } });
  assert.equal(evaluatePolicy(p, callFacts({ priceMicros: 0n, isFirstPaidCallInTask: true, orgHasPaidService: false })).decision, 'allow');
  assert.equal(evaluatePolicy(p, callFacts({ taskId: null, isFirstPaidCallInTask: true })).decision, 'allow');
});

test('price_above is strict: the threshold itself passes', () => {
  const p = policyOf({ triggers: { priceAbove: { enabled: true, threshold: '0.10' } } });
  assert.equal(evaluatePolicy(p, callFacts({ priceMicros: 100_000n })).decision, 'allow');
});

test('grant cap: no cap, enough left, or no room in the user limit do not ask', () => {
  const p = policyOf({ triggers: { grantCapExceeded: { enabled: true } } });
  assert.equal(evaluatePolicy(p, callFacts({ grantRemainingMicros: null })).decision, 'allow');
  assert.equal(evaluatePolicy(p, callFacts({ grantRemainingMicros: 100_000n })).decision, 'allow');
  const noRoom = evaluatePolicy(p, callFacts({ grantRemainingMicros: 0n, userRemainingMicros: 50_000n }));
  assert.equal(noRoom.decision, 'allow', 'the budget guard refuses it instead');
  assert.match(noRoom.trace[0]!.why, /raising the grant's cap would not help/);
  const unlimitedUser = evaluatePolicy(p, callFacts({ grantRemainingMicros: 0n, userRemainingMicros: null }));
  assert.deepEqual(unlimitedUser.ask, { scope: 'raise_cap', raiseMicros: 100_000n, covers: ['trigger:grant_cap_exceeded'] });
});

test('several triggers firing ask once, covering all of them, with the cap raise', () => {
  const p = policyOf({ triggers: { priceAbove: { enabled: true, threshold: '0.05' }, grantCapExceeded: { enabled: true }, firstUseOfService: { enabled: true } } });
  const decided = evaluatePolicy(p, callFacts({ grantRemainingMicros: 0n, orgHasPaidService: false }));
  assert.equal(decided.rule?.id, 'trigger:first_use_of_service', 'the first in the fixed order is named');
  assert.deepEqual(decided.ask, { scope: 'raise_cap', raiseMicros: 100_000n, covers: ['trigger:first_use_of_service', 'trigger:price_above', 'trigger:grant_cap_exceeded'] });
  const retried = evaluatePolicy(p, callFacts({ grantRemainingMicros: 0n, orgHasPaidService: false, approval: { id: 'apr_1', covers: decided.ask!.covers } }));
  assert.equal(retried.decision, 'allow');
  const partly = evaluatePolicy(p, callFacts({ grantRemainingMicros: 0n, orgHasPaidService: false, approval: { id: 'apr_1', covers: ['trigger:price_above'] } }));
  assert.equal(partly.decision, 'require_approval');
});

test('an approval covering all triggers never overrides a deny rule', () => {
  const p = policyOf({
    rules: [{ id: 'no-medical', level: 'grant', effect: 'deny', match: { categories: ['medical'] } }],
    triggers: { sensitiveCategory: { enabled: true, categories: ['medical'] } },
  });
  const decided = evaluatePolicy(p, callFacts({ service: { category: 'medical' }, approval: { id: 'apr_1', covers: 'all' } }));
  assert.equal(decided.decision, 'deny');
  assert.equal(decided.rule?.id, 'no-medical');
  assert.equal(decided.trace.find((e) => e.ruleId === 'trigger:sensitive_category')?.satisfiedBy, 'apr_1');
});

test('several enterprise exception sets are traced under their own names', () => {
  const p = policyOf({
    triggers: {
      enterpriseExceptions: [
        { enabled: true, name: 'vendors', approved: { vendors: ['sel_1'] } },
        { enabled: true, name: 'tools', approved: { tools: ['web_*'] } },
        { enabled: false, name: 'off', approved: { vendors: ['nobody'] } },
      ],
    },
  });
  const decided = evaluatePolicy(p, callFacts({ tool: 'send_email' }));
  assert.equal(decided.rule?.id, 'trigger:enterprise_exception:tools');
  assert.deepEqual(decided.trace.map((e) => [e.ruleId, e.matched]), [['trigger:enterprise_exception:vendors', false], ['trigger:enterprise_exception:tools', true]]);
});
