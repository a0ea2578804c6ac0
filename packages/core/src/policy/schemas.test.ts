import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { TollgateError } from '../errors.ts';
import { parseApprovalTriggers, parsePolicy, parsePolicyRules, PolicySchema, POLICY_RULES_MAX } from './index.ts';

const ok = { id: 'r1', level: 'org', effect: 'deny', match: {} };

/** Asserts a 400 whose message starts with `field: ` and whose data names the field. */
function refuses(run: () => unknown, field: string, message?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof TollgateError, String(error));
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.data.field, field, error.message);
    assert.ok(error.message.startsWith(`${field}: `), error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

test('errors name the field with its full path', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ rules: [{ ...ok, effect: 'block' }] }, 'rules.0.effect', /allow, deny, require_approval/],
    [{ rules: [{ ...ok, effect: undefined }] }, 'rules.0.effect', /is required/],
    [{ rules: [{ ...ok, level: 'team' }] }, 'rules.0.level', /org, project, grant/],
    [{ rules: [ok, { ...ok, match: { servces: ['x'] } }] }, 'rules.1.match', /servces/],
    [{ rules: [{ ...ok, match: undefined }] }, 'rules.0.match', /\{\} matches every call/],
    [{ rules: [{ ...ok, match: { price: { min: 5 } } }] }, 'rules.0.match.price.min', /decimal string/],
    [{ rules: [{ ...ok, match: { price: { min: '1e3' } } }] }, 'rules.0.match.price.min', /decimal amount/],
    [{ rules: [{ ...ok, match: { price: { min: '0.0000001' } } }] }, 'rules.0.match.price.min', /6 decimals/],
    [{ rules: [{ ...ok, match: { price: { min: '5', max: '1' } } }] }, 'rules.0.match.price.max', /below min/],
    [{ rules: [{ ...ok, match: { price: {} } }] }, 'rules.0.match.price', /min, max or both/],
    [{ rules: [{ ...ok, match: { sensitivity: { min: 'high', max: 'low' } } }] }, 'rules.0.match.sensitivity.max', /below min/],
    [{ rules: [{ ...ok, match: { services: [] } }] }, 'rules.0.match.services', /at least one/],
    [{ rules: [{ ...ok, match: { tools: ['a*b'] } }] }, 'rules.0.match.tools.0', /prefix\*/],
    [{ rules: [{ ...ok, id: 'trigger:mine' }] }, 'rules.0.id', /reserved/],
    [{ rules: [{ ...ok, id: '' }] }, 'rules.0.id', /empty/],
    [{ rules: [ok, ok] }, 'rules.1.id', /duplicates/],
    [{ rules: [{ ...ok, priority: 1.5 }] }, 'rules.0.priority', /integer/],
    [{ rules: Array.from({ length: POLICY_RULES_MAX + 1 }, (_, i) => ({ ...ok, id: `r${i}` })) }, 'rules', /at most 500/],
    [{ triggers: { priceAbove: { enabled: true } } }, 'triggers.priceAbove.threshold', /is required/],
    [{ triggers: { sensitiveCategory: { enabled: true } } }, 'triggers.sensitiveCategory.categories', /sensitivityAtLeast/],
    [{ triggers: { firstUseOfService: {} } }, 'triggers.firstUseOfService.enabled', /true or false/],
    [{ triggers: { enterpriseExceptions: [{ enabled: true, name: 'a', approved: {} }, { enabled: true, name: 'a', approved: {} }] } }, 'triggers.enterpriseExceptions.1.name', /duplicates/],
    [{ defaultDecision: 'maybe' }, 'defaultDecision', /allow, deny, require_approval/],
  ];
  for (const [input, field, message] of cases) refuses(() => parsePolicy(input), field, message);
});

test('a field prefix and a level check for one scope', () => {
  refuses(() => parsePolicy('nope', { field: 'policy' }), 'policy');
  refuses(() => parsePolicyRules([ok, { ...ok, id: 'r2', level: 'project' }], { field: 'rules', level: 'org' }), 'rules.1.level', /must be org in a org policy set/);
  refuses(() => parseApprovalTriggers({ priceAbove: { enabled: true, threshold: '-1' } }, { field: 'triggers' }), 'triggers.priceAbove.threshold');
});

test('every issue is listed in the error data', () => {
  try {
    parsePolicy({ rules: [{ id: 'x' }] });
    assert.fail('should throw');
  } catch (error) {
    const issues = (error as TollgateError).data.issues as Array<{ path: string }>;
    assert.deepEqual(issues.map((i) => i.path).sort(), ['rules.0.effect', 'rules.0.level', 'rules.0.match']);
  }
});

test('a valid policy compiles prices to micro-units and fills defaults', () => {
  const p = parsePolicy({
    rules: [{ id: 'big', level: 'project', effect: 'require_approval', match: { price: { min: '5', max: '10.5' }, sensitivity: { min: 'medium' } }, description: 'Big calls' }],
    triggers: { priceAbove: { enabled: true, threshold: '2.50' }, firstUseOfService: { enabled: false } },
  });
  assert.equal(p.defaultDecision, 'allow');
  assert.equal(p.rules[0]!.priority, 0);
  assert.equal(p.rules[0]!.match.priceMinMicros, 5_000_000n);
  assert.equal(p.rules[0]!.match.priceMaxMicros, 10_500_000n);
  assert.equal(p.rules[0]!.match.sensitivityMin, 1);
  assert.equal(p.triggers.priceAboveMicros, 2_500_000n);
  assert.equal(p.triggers.firstUseOfService, undefined, 'a disabled trigger compiles away');
  assert.deepEqual(parsePolicy({}), { rules: [], triggers: {}, defaultDecision: 'allow' });
});

test('the wire schema is plain JSON Schema for the OpenAPI document', () => {
  const schema = z.toJSONSchema(PolicySchema, { io: 'input' }) as { properties: Record<string, unknown> };
  assert.deepEqual(Object.keys(schema.properties).sort(), ['defaultDecision', 'rules', 'triggers']);
  assert.match(JSON.stringify(schema), /require_approval/);
});

test('a price above the largest amount is refused at the field, not later', () => {
  refuses(() => parsePolicy({ triggers: { priceAbove: { enabled: true, threshold: '1000000000.000001' } } }), 'triggers.priceAbove.threshold', /at most 1000000000/);
  assert.equal(parsePolicy({ triggers: { priceAbove: { enabled: true, threshold: '1000000000' } } }).triggers.priceAboveMicros, 1_000_000_000_000_000n);
});
