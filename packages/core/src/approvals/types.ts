/**
 * @module approvals/types
 * The vocabulary of approvals: a parked decision about one paid call, who decided it, and what
 * approving allows. Expected outcomes (already decided, not covered) are tagged unions, not throws.
 */

export type ApprovalState = 'pending' | 'approved' | 'denied' | 'expired';

/**
 * What an approval allows once approved: `call` = the call that asked, once; `task` = any call of
 * that service for that task until it expires; `raise_cap` = raise the grant's cap by `raiseMicros`.
 */
export type ApprovalScope = 'call' | 'task' | 'raise_cap';

export interface Approval {
  id: string;
  orgId: string;
  userId: string;
  grantId: string;
  /** The call that asked. */
  callId: string;
  taskId: string | null;
  agentId: string | null;
  /** Service slug. */
  service: string;
  tool: string;
  priceMicros: bigint;
  /** The agent's declared reason for the call. */
  reason: string | null;
  /** What asked for the approval, e.g. `trigger:price_above_threshold` or a policy rule. */
  trigger: string;
  ruleId: string | null;
  /** A sentence for the person deciding. */
  explanation: string;
  state: ApprovalState;
  scope: ApprovalScope;
  raiseMicros: bigint | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  note: string | null;
  /** Pending: the deadline to decide. Approved: until when it can be used. */
  expiresAt: Date;
  usedAt: Date | null;
  usedByCallId: string | null;
  createdAt: Date;
}

export interface CreateApprovalInput {
  callId: string;
  orgId: string;
  userId: string;
  grantId: string;
  taskId?: string | null;
  agentId?: string | null;
  service: string;
  tool: string;
  priceMicros: bigint;
  reason?: string | null;
  trigger: string;
  ruleId?: string | null;
  explanation: string;
  /** What approving would allow unless the decider picks otherwise; defaults to `call`. */
  scope?: ApprovalScope;
  raiseMicros?: bigint;
  /** How long a person has to decide; defaults to the store's setting. */
  ttlMs?: number;
}

export interface DecideInput {
  decision: 'approve' | 'deny';
  /** Who decided (user id, email, `slack:U123`…). */
  decidedBy: string;
  /** What the approval allows; defaults to what was asked. Ignored for a denial. */
  scope?: ApprovalScope;
  /** For `raise_cap`: how much to raise the grant cap by; defaults to what was asked. */
  raiseMicros?: bigint;
  note?: string;
  /** How long an approval stays usable after the decision; defaults to the store's setting. */
  validForMs?: number;
}

export type DecideResult =
  | { type: 'decided'; approval: Approval }
  | { type: 'already_decided'; approval: Approval }
  | { type: 'expired'; approval: Approval };

export interface ConsumeFacts {
  callId: string;
  grantId: string;
  taskId: string | null;
  /** Service slug. */
  service: string;
  tool: string;
  priceMicros: bigint;
}

export type NotCoveredWhy =
  | 'not_found'
  | 'pending'
  | 'denied'
  | 'expired'
  | 'used'
  | 'other_grant'
  | 'other_call'
  | 'other_task'
  | 'other_service'
  | 'price_above_approved';

export type ConsumeResult =
  | { type: 'covered'; scope: ApprovalScope; approval: Approval; raiseMicros?: bigint }
  | { type: 'not_covered'; why: NotCoveredWhy; approval?: Approval };

export interface ListApprovalsFilter {
  orgId?: string;
  userId?: string;
  state?: ApprovalState;
  limit?: number;
  /** The `next` cursor of the previous page. */
  before?: string;
}

export interface ApprovalPage {
  items: Approval[];
  /** Pass as `before` for the next (older) page; absent on the last page. */
  next?: string;
}
