/**
 * @module approvals
 * Parked decisions about paid calls: create, decide once, wait (long-poll), expire, consume.
 */
export {
  Approvals,
  APPROVAL_PENDING_TTL_MS,
  APPROVAL_VALID_FOR_MS,
  APPROVAL_WAIT_MS_MAX,
  APPROVAL_POLL_MS,
  type ApprovalsOptions,
} from './approvals.ts';
export { approvalPort } from './port.ts';
export { approvalJson } from './rows.ts';
export type {
  Approval,
  ApprovalState,
  ApprovalScope,
  ApprovalPage,
  CreateApprovalInput,
  DecideInput,
  DecideResult,
  ConsumeFacts,
  ConsumeResult,
  NotCoveredWhy,
  ListApprovalsFilter,
} from './types.ts';
