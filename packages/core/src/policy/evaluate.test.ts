import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy, factsFromRequest, parsePolicyRules, type PolicyRuleInput } from './index.ts';
import { callFacts, policyOf } from './test-facts.ts';

const rule = (id: string, effect: PolicyRuleInput['effect'], match: PolicyRuleInput['match'] = {}, more: Partial<PolicyRuleInput> = {}): PolicyRuleInput => ({
  id,
  level: 'org',
  effect,
  match,
  ...more,
});

test('each effect decides when its rule alone matches, naming the rule in the reason', () => {
  for (const effect of ['allow', 'deny', 'require_approval'] as const) {
    const decided = evaluatePolicy(policyOf({ rules: [rule('r1', effect, { services: ['search'] })] }), callFacts());
    assert.equal(decided.decision, effect);
    assert.deepEqual(decided.rule, { id: 'r1', level: 'org' });
    assert.match(decided.reason, /^Org rule r1 (allows|denies|requires approval for) this call \(service search\)\.$/);
    assert.deepEqual(decided.trace, [{ ruleId: 'r1', level: 'org', matched: true, effect, why: 'service search' }]);
  }
});

test('a description is part of the reason', () => {
  const decided = evaluatePolicy(policyOf({ rules: [rule('no-bet', 'deny', { categories: ['gambling'] }, { description: 'We do not bet.' })] }), callFacts({ service: { category: 'gambling' } }));
  assert.equal(decided.reason, 'Org rule no-bet denies this call (category gambling): We do not bet.');
});

test('each match field narrows, and the trace says which condition missed', () => {
  const cases: Array<[PolicyRuleInput['match'], string]> = [
    [{ services: ['weather*', 'maps'] }, 'service search is not weather*, maps'],
    [{ vendors: ['sel_2'] }, 'vendor sel_1 is not sel_2'],
    [{ categories: ['legal'] }, 'category data is not legal'],
    [{ tools: ['send_*'] }, 'tool web_search is not send_*'],
    [{ price: { min: '0.50' } }, 'price 0.10 is below 0.50'],
    [{ price: { max: '0.05' } }, 'price 0.10 is above 0.05'],
    [{ sensitivity: { min: 'medium' } }, 'sensitivity low is below medium'],
    [{ agents: ['agt_2'] }, 'agent agt_1 is not agt_2'],
  ];
  for (const [match, why] of cases) {
    const decided = evaluatePolicy(policyOf({ rules: [rule('r', 'deny', match)] }), callFacts());
    assert.equal(decided.decision, 'allow', JSON.stringify(match));
    assert.equal(decided.trace[0]!.matched, false);
    assert.equal(decided.trace[0]!.why, why);
  }
});

test('prefix patterns, inclusive price bounds, sensitivity ranges and * match as documented', () => {
  const deny = (match: PolicyRuleInput['match']) => policyOf({ rules: [rule('r', 'deny', match)] });
  assert.equal(evaluatePolicy(deny({ services: ['sea*'], tools: ['web_*'] }), callFacts()).decision, 'deny');
  assert.equal(evaluatePolicy(deny({ services: ['*'] }), callFacts()).decision, 'deny');
  assert.equal(evaluatePolicy(deny({ price: { min: '0.10', max: '0.10' } }), callFacts()).decision, 'deny');
  assert.equal(evaluatePolicy(deny({ sensitivity: { min: 'medium', max: 'high' } }), callFacts({ service: { sensitivity: 'high' } })).decision, 'deny');
  assert.equal(evaluatePolicy(deny({ agents: ['agt_1'] }), callFacts({ agentId: null })).decision, 'allow', 'a call with no agent never matches an agent list');
  const all = evaluatePolicy(deny({ services: ['search'], vendors: ['sel_1'], categories: ['data'], tools: ['web_search'], price: { max: '1' }, agents: ['agt_1'] }), callFacts());
  assert.equal(all.trace[0]!.why, 'service search, vendor sel_1, category data, tool web_search, price 0.10 ≤ 1.00, agent agt_1');
});

test('deny beats require_approval beats allow, whatever the levels', () => {
  const rules: PolicyRuleInput[] = [
    rule('grant-allow', 'allow', {}, { level: 'grant', priority: 1_000 }),
    rule('project-ask', 'require_approval', {}, { level: 'project' }),
    rule('org-deny', 'deny', {}, { level: 'org' }),
  ];
  assert.equal(evaluatePolicy(policyOf({ rules }), callFacts()).rule?.id, 'org-deny');
  assert.equal(evaluatePolicy(policyOf({ rules: rules.slice(0, 2) }), callFacts()).rule?.id, 'project-ask');
  assert.equal(evaluatePolicy(policyOf({ rules: rules.slice(0, 1) }), callFacts()).rule?.id, 'grant-allow');
});

test('among equal effects the most specific level decides, then priority, then position', () => {
  const byLevel = policyOf({ rules: [rule('org', 'deny'), rule('grant', 'deny', {}, { level: 'grant' }), rule('project', 'deny', {}, { level: 'project' })] });
  assert.deepEqual(evaluatePolicy(byLevel, callFacts()).rule, { id: 'grant', level: 'grant' });
  const byPriority = policyOf({ rules: [rule('low', 'deny'), rule('high', 'deny', {}, { priority: 5 })] });
  assert.equal(evaluatePolicy(byPriority, callFacts()).rule?.id, 'high');
  const byOrder = policyOf({ rules: [rule('first', 'deny'), rule('second', 'deny')] });
  assert.equal(evaluatePolicy(byOrder, callFacts()).rule?.id, 'first');
});

test('an explicit rule is named before a built-in trigger of the same level and priority', () => {
  const p = policyOf({ rules: [rule('ask', 'require_approval')], triggers: { priceAbove: { enabled: true, threshold: '0.01' } } });
  const decided = evaluatePolicy(p, callFacts());
  assert.equal(decided.rule?.id, 'ask');
  assert.deepEqual(decided.ask, { scope: 'call', covers: ['ask', 'trigger:price_above'] });
});

test('no match falls to the default: allow unless configured', () => {
  const none = evaluatePolicy(policyOf({ rules: [rule('r', 'deny', { vendors: ['sel_9'] })] }), callFacts());
  assert.equal(none.decision, 'allow');
  assert.equal(none.rule, undefined);
  assert.match(none.reason, /default decision \(allow\)/);
  for (const defaultDecision of ['deny', 'require_approval'] as const) {
    const decided = evaluatePolicy(policyOf({ defaultDecision }), callFacts());
    assert.equal(decided.decision, defaultDecision);
    assert.equal(decided.rule, undefined);
  }
  assert.deepEqual(evaluatePolicy(policyOf({ defaultDecision: 'require_approval' }), callFacts()).ask, { scope: 'call', covers: ['default'] });
  assert.equal(evaluatePolicy([], callFacts()).decision, 'allow', 'a bare empty rule list allows');
});

test('a bare rule list can be evaluated directly', () => {
  const rules = parsePolicyRules([rule('r', 'deny', { tools: ['web_*'] })]);
  assert.equal(evaluatePolicy(rules, callFacts()).decision, 'deny');
});

test('an approval answers the require_approval rules it covers, never a deny', () => {
  const p = policyOf({ rules: [rule('ask', 'require_approval'), rule('deny-legal', 'deny', { categories: ['legal'] })] });
  const approval = { id: 'apr_1', covers: ['ask'] };
  const answered = evaluatePolicy(p, callFacts({ approval }));
  assert.equal(answered.decision, 'allow');
  assert.equal(answered.trace[0]!.satisfiedBy, 'apr_1');
  assert.match(answered.reason, /^Approval apr_1 answered ask; no other rule or trigger applies/);
  const denied = evaluatePolicy(p, callFacts({ approval: { id: 'apr_2', covers: 'all' }, service: { category: 'legal' } }));
  assert.equal(denied.decision, 'deny');
  assert.equal(denied.rule?.id, 'deny-legal');
  const other = evaluatePolicy(p, callFacts({ approval: { id: 'apr_3', covers: ['something-else'] } }));
  assert.equal(other.decision, 'require_approval', 'an approval for another rule does not answer this one');
  const byDefault = evaluatePolicy(policyOf({ defaultDecision: 'require_approval' }), callFacts({ approval: { id: 'apr_4', covers: ['default'] } }));
  assert.equal(byDefault.decision, 'allow');
});

test('an approval that answers one asking rule still leaves another asking', () => {
  const p = policyOf({ rules: [rule('a', 'require_approval'), rule('b', 'require_approval', {}, { level: 'grant' })] });
  const decided = evaluatePolicy(p, callFacts({ approval: { id: 'apr_1', covers: ['b'] } }));
  assert.equal(decided.decision, 'require_approval');
  assert.equal(decided.rule?.id, 'a');
  assert.deepEqual(decided.ask?.covers, ['a']);
});

test('facts built from a call request decide like hand-written facts', () => {
  const request = {
    service: { id: 'svc_1', slug: 'search', kind: 'http' as const, sellerId: 'sel_1', category: 'data', sensitivity: 'low' as const, freeCallsPerMonth: 0 },
    tool: 'web_search',
    priceMicros: 100_000n,
    agentId: 'agt_1',
    taskId: 'task_1',
  };
  const counters = { isFirstPaidCallInTask: false, orgHasPaidService: true, grantRemainingMicros: 10_000_000n, userRemainingMicros: 50_000_000n };
  assert.deepEqual(factsFromRequest(request, counters), callFacts());
  assert.deepEqual(factsFromRequest({ ...request, agentId: undefined, taskId: undefined }, { ...counters, approval: { id: 'apr_1', covers: 'all' } }), callFacts({ agentId: null, taskId: null, approval: { id: 'apr_1', covers: 'all' } }));
});
