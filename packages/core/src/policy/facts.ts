/**
 * @module policy/facts
 * Builds `PolicyFacts` from what the guard already has: the call request and the few counters it
 * looks up (has the task paid yet, has the org paid this service, what is left on the grant and on
 * the user's limits). Kept apart from the evaluator so the evaluator never touches a request.
 */
import type { CallRequest } from '../guard/types.ts';
import type { ApprovalFact, PolicyFacts } from './types.ts';

/** The facts that need a lookup; the guard computes them before evaluating. */
export interface CallCounters {
  isFirstPaidCallInTask: boolean;
  orgHasPaidService: boolean;
  grantRemainingMicros: bigint | null;
  userRemainingMicros: bigint | null;
  /** A covering approval found for this retry (`covers: 'all'` when it answers every ask). */
  approval?: ApprovalFact;
}

export function factsFromRequest(request: Pick<CallRequest, 'service' | 'tool' | 'priceMicros' | 'agentId' | 'taskId'>, counters: CallCounters): PolicyFacts {
  const { slug, sellerId, category, sensitivity } = request.service;
  const facts: PolicyFacts = {
    service: { slug, sellerId, category, sensitivity },
    tool: request.tool,
    priceMicros: request.priceMicros,
    agentId: request.agentId ?? null,
    taskId: request.taskId ?? null,
    isFirstPaidCallInTask: counters.isFirstPaidCallInTask,
    orgHasPaidService: counters.orgHasPaidService,
    grantRemainingMicros: counters.grantRemainingMicros,
    userRemainingMicros: counters.userRemainingMicros,
  };
  if (counters.approval !== undefined) facts.approval = counters.approval;
  return facts;
}
