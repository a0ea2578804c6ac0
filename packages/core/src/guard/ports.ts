/**
 * @module guard/ports
 * What the guard needs from policy, approvals and the audit log, and nothing more. The facade wires
 * the real modules in; tests can wire others. Keeping these narrow keeps the guard readable.
 */
import type { Grant } from '../grants/grants.ts';
import type { LimitContext } from './hold-chain.ts';
import type { CallRequest, CallStatus } from './types.ts';

export interface PolicyInput {
  request: CallRequest;
  grant: Grant;
  orgId: string;
  projectId: string | null;
  agentId: string | null;
  taskId: string | null;
  /** The limits that apply, for triggers that compare what is left. */
  limits: LimitContext;
  /** An approval that covers this call: triggers it answers don't fire again (a deny rule still does). */
  approvalId: string | null;
}

export interface PolicyOutcome {
  decision: 'allow' | 'deny' | 'require_approval';
  /** The rule (or `trigger:*`) that decided; absent when the default decided. */
  ruleId?: string;
  reason: string;
  trace: unknown[];
  /** With `require_approval`: what approving would allow. */
  ask?: { scope: 'call' | 'raise_cap'; raiseMicros?: bigint };
}

export interface PolicyPort {
  evaluate(input: PolicyInput): Promise<PolicyOutcome>;
}

export interface ApprovalRequest {
  callId: string;
  orgId: string;
  userId: string;
  grantId: string;
  taskId: string | null;
  agentId: string | null;
  service: string;
  tool: string;
  priceMicros: bigint;
  reason: string | null;
  trigger: string;
  ruleId: string | null;
  explanation: string;
  /** What approving would allow by default; `raise_cap` carries the amount to raise the grant by. */
  scope: 'call' | 'task' | 'raise_cap';
  raiseMicros?: bigint;
}

export type ApprovalUse =
  | { type: 'covered'; scope: 'call' | 'task' | 'raise_cap'; raiseMicros?: bigint }
  | { type: 'pending' }
  | { type: 'denied' }
  | { type: 'not_covered'; why: string };

export interface ApprovalPort {
  request(input: ApprovalRequest): Promise<{ id: string; expiresAt: Date }>;
  use(approvalId: string, facts: { callId: string; grantId: string; taskId: string | null; service: string; tool: string; priceMicros: bigint }): Promise<ApprovalUse>;
}

export interface LedgerMovement {
  id: string;
  debit: string;
  credit: string;
  amount: bigint;
  kind: string;
}

/** One finished call, as the audit log records it. */
export interface CallRecord {
  callId: string;
  outcome: 'captured' | 'voided' | 'refused' | 'expired';
  orgId: string | null;
  projectId: string | null;
  userId: string | null;
  grantId: string | null;
  agentId: string | null;
  taskId: string | null;
  serviceId: string;
  service: string;
  sellerId: string;
  tool: string;
  reason: string | null;
  edge: CallRequest['edge'];
  priceMicros: bigint;
  pricing: CallRequest['pricing'];
  decision: string;
  errorCode: string | null;
  errorData: Record<string, unknown> | null;
  policyTrace: unknown[];
  ruleId: string | null;
  approvalId: string | null;
  holdMicros: bigint;
  rail: 'balance';
  capturedMicros: bigint;
  feeMicros: bigint;
  status: CallStatus | 'refused' | 'expired';
  httpStatus: number | null;
  summary: string | null;
  latencyMs: number | null;
  units: bigint | null;
  transfers: LedgerMovement[];
}

export interface AuditPort {
  append(record: CallRecord): Promise<void>;
}
