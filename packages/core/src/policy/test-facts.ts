/**
 * @module policy/test-facts
 * Builders shared by the policy tests and the benchmark: a plain call's facts and a policy from
 * wire JSON, so each test states only what it is about.
 */
import { parsePolicy } from './compile.ts';
import type { PolicyInput } from './schemas.ts';
import type { Policy, PolicyFacts } from './types.ts';

/** Facts to change from the plain call; `service` fields are merged one by one. */
export type FactsOverrides = Omit<Partial<PolicyFacts>, 'service'> & { service?: Partial<PolicyFacts['service']> };

/** A 0.10 call to `search` (vendor sel_1, category data, low sensitivity) that no trigger would stop. */
export function callFacts(overrides: FactsOverrides = {}): PolicyFacts {
  const { service, ...rest } = overrides;
  return {
    service: { slug: 'search', sellerId: 'sel_1', category: 'data', sensitivity: 'low', ...service },
    tool: 'web_search',
    priceMicros: 100_000n,
    agentId: 'agt_1',
    taskId: 'task_1',
    isFirstPaidCallInTask: false,
    orgHasPaidService: true,
    grantRemainingMicros: 10_000_000n,
    userRemainingMicros: 50_000_000n,
    ...rest,
  };
}

export function policyOf(input: PolicyInput): Policy {
  return parsePolicy(input);
}
