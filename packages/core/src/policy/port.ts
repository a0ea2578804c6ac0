/**
 * @module policy/port
 * Plugs stored policies into the budget guard: loads what applies to the call, computes only the
 * facts an enabled trigger needs (each costs a query), and evaluates.
 */
import type { Ledger } from '../ledger/types.ts';
import type { CallStore } from '../guard/call-store.ts';
import type { LimitContext } from '../guard/hold-chain.ts';
import type { PolicyPort } from '../guard/ports.ts';
import { accountId } from '../limits/accounts.ts';
import { monthKey } from '../limits/periods.ts';
import { evaluatePolicy } from './evaluate.ts';
import { factsFromRequest } from './facts.ts';
import type { Policies } from './store.ts';

export function policyPort(options: { policies: Policies; calls: CallStore; ledger: Ledger }): PolicyPort {
  const { policies, calls, ledger } = options;
  return {
    async evaluate(input) {
      const { request, grant } = input;
      const policy = await policies.load({ orgId: input.orgId, projectId: input.projectId, grantId: grant.id });
      const t = policy.triggers;
      const [firstInTask, hasPaid, remaining] = await Promise.all([
        t.firstPaidCallInTask && input.taskId ? calls.hasCaptured({ orgId: input.orgId, taskId: input.taskId }).then((paid) => !paid) : false,
        t.firstUseOfService ? calls.hasCaptured({ orgId: input.orgId, serviceId: request.service.id }) : true,
        t.grantCapExceeded ? remainingOf(ledger, input.limits) : { grant: null, user: null },
      ]);
      // The grant may bind the agent and task, so the context's values win over the request's.
      const call = { ...request, agentId: input.agentId ?? undefined, taskId: input.taskId ?? undefined };
      const decision = evaluatePolicy(policy, factsFromRequest(call, {
        isFirstPaidCallInTask: firstInTask,
        orgHasPaidService: hasPaid,
        grantRemainingMicros: remaining.grant,
        userRemainingMicros: remaining.user,
        ...(input.approvalId ? { approval: { id: input.approvalId, covers: 'all' as const } } : {}),
      }));
      return {
        decision: decision.decision,
        ...(decision.rule ? { ruleId: decision.rule.id } : {}),
        reason: decision.reason,
        trace: decision.trace,
        ...(decision.ask ? { ask: decision.ask.raiseMicros === undefined ? { scope: decision.ask.scope } : { scope: decision.ask.scope, raiseMicros: decision.ask.raiseMicros } } : {}),
      };
    },
  };
}

/** What the grant (tightest of its lineage) and the user's own limits have left. */
async function remainingOf(ledger: Ledger, limits: LimitContext): Promise<{ grant: bigint | null; user: bigint | null }> {
  const month = monthKey(limits.now);
  const grantIds = limits.lineage.map((g) => accountId.grantTotal(g.id));
  const userLimits: { id: string; cap: bigint }[] = [];
  if (limits.userMonthlyMicros !== null) userLimits.push({ id: accountId.limit('user_monthly', limits.userId, month), cap: limits.userMonthlyMicros });
  if (limits.projectMonthlyMicros !== null && limits.projectId !== null) userLimits.push({ id: accountId.limit('project_monthly', limits.projectId, month), cap: limits.projectMonthlyMicros });
  if (limits.orgMonthlyMicros !== null) userLimits.push({ id: accountId.limit('org_monthly', limits.orgId, month), cap: limits.orgMonthlyMicros });
  const accounts = new Map((await ledger.lookupAccounts([...grantIds, ...userLimits.map((l) => l.id)])).map((a) => [a.id, a]));
  // An account not created yet has its whole cap left.
  const left = (id: string, cap: bigint) => {
    const a = accounts.get(id);
    return a ? a.creditsPosted - a.debitsPosted - a.debitsPending : cap;
  };
  const min = (values: bigint[]) => values.reduce<bigint | null>((m, v) => (m === null || v < m ? v : m), null);
  const grant = min(limits.lineage.map((g) => left(accountId.grantTotal(g.id), g.totalCapMicros)));
  const user = min(userLimits.map((l) => left(l.id, l.cap)));
  return { grant, user };
}
