/**
 * @module approvals/port
 * Plugs the approval store into the budget guard's narrow `ApprovalPort`: `request` parks a call,
 * `use` turns a consume result into the three answers the guard acts on.
 */
import type { ApprovalPort, ApprovalUse } from '../guard/ports.ts';
import type { Approvals } from './approvals.ts';

export function approvalPort(approvals: Approvals): ApprovalPort {
  return {
    request: (input) => approvals.create(input),
    async use(approvalId, facts): Promise<ApprovalUse> {
      const result = await approvals.consume(approvalId, facts);
      if (result.type === 'covered') {
        return result.raiseMicros === undefined ? { type: 'covered', scope: result.scope } : { type: 'covered', scope: result.scope, raiseMicros: result.raiseMicros };
      }
      if (result.why === 'pending') return { type: 'pending' };
      if (result.why === 'denied') return { type: 'denied' };
      return { type: 'not_covered', why: result.why };
    },
  };
}
