/**
 * @module bench/policy
 * Microseconds per policy decision: a realistic org (24 rules over three levels, every built-in
 * trigger on, two enterprise exception sets) deciding a rotating mix of calls, with the full trace.
 * Prints figures; never pass/fail. Last line: `{"bench":"policy","us_per_decision":N}`.
 *
 *   npx tsx bench/policy.ts [decisions]
 */
import { evaluatePolicy, parsePolicy, type PolicyFacts, type PolicyRuleInput } from '../packages/core/src/policy/index.ts';
import { callFacts } from '../packages/core/src/policy/test-facts.ts';

const DECISIONS = Number(process.argv[2] ?? 300_000);

function rules(): PolicyRuleInput[] {
  const out: PolicyRuleInput[] = [
    { id: 'no-gambling', level: 'org', effect: 'deny', match: { categories: ['gambling', 'adult'] }, description: 'Company policy.' },
    { id: 'no-outbound-email', level: 'org', effect: 'deny', match: { tools: ['send_*'] } },
    { id: 'big-spend', level: 'org', effect: 'require_approval', match: { price: { min: '5.00' } } },
    { id: 'trusted-vendors', level: 'org', effect: 'allow', match: { vendors: ['sel_1', 'sel_2', 'sel_3'] } },
    { id: 'research-agents', level: 'project', effect: 'allow', match: { agents: ['agt_1', 'agt_2'], services: ['search*', 'maps'] } },
    { id: 'medical-high', level: 'project', effect: 'require_approval', match: { categories: ['medical'], sensitivity: { min: 'high' } } },
    { id: 'grant-weather', level: 'grant', effect: 'allow', match: { services: ['weather'], price: { max: '0.50' } } },
  ];
  for (let i = 0; i < 17; i++) {
    out.push({ id: `vendor-block-${i}`, level: i % 2 === 0 ? 'org' : 'project', effect: 'deny', match: { vendors: [`bad_${i}`], tools: [`tool_${i}*`] } });
  }
  return out;
}

const policy = parsePolicy({
  rules: rules(),
  triggers: {
    firstPaidCallInTask: { enabled: true },
    firstUseOfService: { enabled: true },
    priceAbove: { enabled: true, threshold: '2.00' },
    sensitiveCategory: { enabled: true, categories: ['medical', 'legal'], sensitivityAtLeast: 'high' },
    grantCapExceeded: { enabled: true },
    enterpriseExceptions: [
      { enabled: true, name: 'approved-vendors', approved: { vendors: ['sel_1', 'sel_2', 'sel_3', 'sel_4'] } },
      { enabled: true, name: 'approved-categories', approved: { categories: ['data', 'maps', 'medical', 'weather'] } },
    ],
  },
});

const mix: PolicyFacts[] = [
  callFacts(),
  callFacts({ priceMicros: 6_000_000n }),
  callFacts({ service: { slug: 'casino', category: 'gambling', sellerId: 'sel_9' } }),
  callFacts({ service: { slug: 'weather', category: 'weather' }, tool: 'GET /v1/forecast', priceMicros: 20_000n }),
  callFacts({ service: { category: 'medical', sensitivity: 'high' }, isFirstPaidCallInTask: true }),
  callFacts({ grantRemainingMicros: 50_000n, approval: { id: 'apr_1', covers: ['trigger:grant_cap_exceeded'] } }),
  callFacts({ tool: 'send_email' }),
  callFacts({ orgHasPaidService: false, agentId: null }),
];

function run(count: number): { ns: bigint; outcomes: Record<string, number> } {
  const outcomes: Record<string, number> = {};
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const d = evaluatePolicy(policy, mix[i % mix.length]!);
    outcomes[d.decision] = (outcomes[d.decision] ?? 0) + 1;
  }
  return { ns: process.hrtime.bigint() - start, outcomes };
}

run(Math.min(50_000, DECISIONS)); // warm-up: let the JIT settle before measuring
const { ns, outcomes } = run(DECISIONS);
const usPerDecision = Number(ns) / 1_000 / DECISIONS;
console.log(`policy: ${policy.rules.length} rules, 7 triggers, ${mix.length} call shapes, ${DECISIONS} decisions`);
console.log(`outcomes: ${JSON.stringify(outcomes)}`);
console.log(`${usPerDecision.toFixed(2)} µs/decision (${Math.round(1e6 / usPerDecision).toLocaleString('en-US')} decisions/s on one core)`);
console.log(JSON.stringify({ bench: 'policy', us_per_decision: Number(usPerDecision.toFixed(2)) }));
