import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatMicros } from '../money.ts';
import { evaluatePolicy, parsePolicy, POLICY_EFFECTS, type PolicyFacts, type PolicyInput, type PolicyRuleInput } from './index.ts';

const slugs = ['search', 'search-pro', 'weather', 'maps', 'casino'];
const vendors = ['sel_1', 'sel_2', 'sel_3'];
const categories = ['data', 'gambling', 'medical', 'email'];
const tools = ['web_search', 'send_email', 'GET /v1/forecast', 'bet'];
const agents = ['agt_1', 'agt_2'];
const levels = ['low', 'medium', 'high'] as const;

const price = fc.bigInt({ min: 0n, max: 20_000_000n });
const priceString = price.map(formatMicros);
const names = (values: string[], patterns = false) =>
  fc.uniqueArray(fc.constantFrom(...values, ...(patterns ? values.map((v) => `${v.slice(0, 3)}*`).concat('*') : [])), { minLength: 1, maxLength: 3 });

const match = fc.record(
  {
    services: names(slugs, true),
    vendors: names(vendors),
    categories: names(categories),
    tools: names(tools, true),
    price: fc.tuple(price, price).map(([a, b]) => (a <= b ? { min: formatMicros(a), max: formatMicros(b) } : { max: formatMicros(a) })),
    sensitivity: fc.constantFrom(...levels).map((min) => ({ min })),
    agents: names(agents),
  },
  { requiredKeys: [] },
);

const rules = fc
  .uniqueArray(
    fc.record({
      id: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
      level: fc.constantFrom('org', 'project', 'grant'),
      effect: fc.constantFrom(...POLICY_EFFECTS),
      match,
      priority: fc.option(fc.nat(1_000), { nil: undefined }),
    }),
    { maxLength: 12, selector: (r) => r.id },
  )
  .map((list) => list.map((r) => (r.priority === undefined ? { id: r.id, level: r.level, effect: r.effect, match: r.match } : r)) as PolicyRuleInput[]);

const toggle = fc.boolean().map((enabled) => ({ enabled }));
const triggers = fc.record(
  {
    firstPaidCallInTask: toggle,
    firstUseOfService: toggle,
    priceAbove: fc.record({ enabled: fc.boolean(), threshold: priceString }),
    sensitiveCategory: fc.record({ enabled: fc.boolean(), categories: names(categories), sensitivityAtLeast: fc.constantFrom(...levels) }),
    grantCapExceeded: toggle,
    enterpriseExceptions: fc.uniqueArray(fc.record({ enabled: fc.boolean(), name: fc.constantFrom('vendors', 'tools', 'cats'), approved: match }), { maxLength: 3, selector: (e) => e.name }),
  },
  { requiredKeys: [] },
);

const policy: fc.Arbitrary<PolicyInput> = fc.record({ rules, triggers, defaultDecision: fc.constantFrom(...POLICY_EFFECTS) });

const facts: fc.Arbitrary<PolicyFacts> = fc.record({
  service: fc.record({ slug: fc.constantFrom(...slugs), sellerId: fc.constantFrom(...vendors), category: fc.constantFrom(...categories), sensitivity: fc.constantFrom(...levels) }),
  tool: fc.constantFrom(...tools),
  priceMicros: price,
  agentId: fc.option(fc.constantFrom(...agents), { nil: null }),
  taskId: fc.option(fc.constant('task_1'), { nil: null }),
  isFirstPaidCallInTask: fc.boolean(),
  orgHasPaidService: fc.boolean(),
  grantRemainingMicros: fc.option(price, { nil: null }),
  userRemainingMicros: fc.option(price, { nil: null }),
  approval: fc.option(fc.record({ id: fc.constant('apr_1'), covers: fc.oneof(fc.constant('all' as const), fc.array(fc.constantFrom('trigger:price_above', 'trigger:grant_cap_exceeded', 'default'))) }), { nil: undefined }),
}).map((f) => (f.approval === undefined ? (({ approval: _drop, ...rest }) => rest)(f) : f));

const RANK = { allow: 0, require_approval: 1, deny: 2 } as const;

test('fuzz: every generated policy parses, and evaluation never throws and always explains itself', () => {
  fc.assert(
    fc.property(policy, facts, (input, f) => {
      const p = parsePolicy(input);
      const d = evaluatePolicy(p, f);
      assert.ok(POLICY_EFFECTS.includes(d.decision));
      assert.ok(d.reason.length > 0 && d.reason.endsWith('.'));
      assert.ok(d.trace.length >= p.rules.length, 'every rule is in the trace');
      for (const e of d.trace) assert.ok(e.why.length > 0);
      const live = d.trace.filter((e) => e.matched && e.satisfiedBy === undefined);
      if (live.length === 0) {
        assert.equal(d.rule, undefined, 'only the default decides when nothing live matched');
        return;
      }
      const strongest = Math.max(...live.map((e) => RANK[e.effect]));
      assert.equal(RANK[d.decision], strongest, 'the strongest live effect decides');
      const decider = live.find((e) => e.ruleId === d.rule?.id);
      assert.ok(decider && decider.effect === d.decision && decider.level === d.rule?.level, 'the named rule matched with that effect');
      assert.equal(d.ask !== undefined, d.decision === 'require_approval');
    }),
    { numRuns: 1_500 },
  );
});

test('fuzz: an approval never turns a deny into anything else, and a matching deny rule always wins', () => {
  fc.assert(
    fc.property(policy, facts, (input, f) => {
      const p = parsePolicy(input);
      const before = evaluatePolicy(p, f);
      if (before.decision === 'deny' && before.rule !== undefined) {
        assert.equal(evaluatePolicy(p, { ...f, approval: { id: 'apr_x', covers: 'all' } }).decision, 'deny');
      }
      const withDeny = parsePolicy({ ...input, rules: [...(input.rules ?? []), { id: 'zz-deny', level: 'org', effect: 'deny', match: {} }] });
      assert.equal(evaluatePolicy(withDeny, f).decision, 'deny');
    }),
    { numRuns: 800 },
  );
});
