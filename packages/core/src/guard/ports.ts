/**
 * @module guard/ports
 * What the guard needs from policy, approvals and the audit log, and nothing more. The facade wires
 * the real modules in; tests can wire others. Keeping these narrow keeps the guard readable.
 */
import type { Grant } from '../grants/grants.ts';
import type { LimitContext } from './hold-chain.ts';
import type { CallRequest } from './types.ts';
import type { AuditInput, AuditTransfer } from '../audit/types.ts';
import type { CreateApprovalInput } from '../approvals/types.ts';
import type { PreparedRecord } from '../audit/writer.ts';
import type { Queryable } from '../db/db.ts';

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

/** What the guard asks the approval store to park: the store's own input. */
export type ApprovalRequest = CreateApprovalInput;

export type ApprovalUse =
  | { type: 'covered'; scope: 'call' | 'task' | 'raise_cap'; raiseMicros?: bigint }
  | { type: 'pending' }
  | { type: 'denied' }
  | { type: 'not_covered'; why: string };

export interface ApprovalPort {
  request(input: ApprovalRequest): Promise<{ id: string; expiresAt: Date }>;
  use(approvalId: string, facts: { callId: string; grantId: string; taskId: string | null; service: string; tool: string; priceMicros: bigint }): Promise<ApprovalUse>;
}

/** One ledger movement of a call, as the audit record lists it. */
export type LedgerMovement = AuditTransfer;

/** One finished call, as the audit log records it: the audit log's own input. */
export type CallRecord = AuditInput;

/** A record checked and stamped by the audit log, ready to be chained. */
export type PreparedCallRecord = PreparedRecord;

export interface AuditPort {
  append(record: CallRecord): Promise<void>;
  /** Checks and stamps a record (throws on a bad one) so it can be chained in another transaction. */
  prepare(record: CallRecord): PreparedCallRecord;
  /**
   * Chains prepared records inside `tx`, locking the audit head as soon as it is called: the caller
   * calls it after taking its other locks, and may pass the records as a promise still being decided
   * by a statement it sent just before. It guarantees no record of the same call and kind exists
   * yet (it just finished those calls).
   */
  appendIn(tx: Queryable, records: readonly PreparedCallRecord[] | Promise<readonly PreparedCallRecord[]>): Promise<void>;
}
