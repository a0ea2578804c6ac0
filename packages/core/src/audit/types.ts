/**
 * @module audit/types
 * The paid-call record: one immutable, hash-chained row per finished call (captured, voided,
 * expired) or refused attempt, connecting who asked, why, what policy and approval said, and the
 * money that moved. The input shape matches the guard's `CallRecord`, so the guard appends as is.
 */
import type { CallStatus } from '../guard/types.ts';

export type AuditOutcome = 'captured' | 'voided' | 'refused' | 'expired';

/** One ledger movement of the call (hold, post, void, fee split…). */
export interface AuditTransfer {
  id: string;
  debit: string;
  credit: string;
  amount: bigint;
  kind: string;
}

export interface AuditInput {
  callId: string;
  outcome: AuditOutcome;
  orgId: string | null;
  projectId: string | null;
  userId: string | null;
  grantId: string | null;
  agentId: string | null;
  taskId: string | null;
  serviceId: string;
  /** Service slug. */
  service: string;
  sellerId: string | null;
  /** MCP tool name or `METHOD /path`. */
  tool: string;
  /** The agent's declared reason. */
  reason: string | null;
  edge: string;
  /** The quoted price (or the declared maximum of a usage-priced call). */
  priceMicros: bigint;
  pricing: string;
  /** allow | deny | require_approval | refused_<code>. */
  decision: string;
  ruleId: string | null;
  errorCode: string | null;
  /** The refusal's facts: which limit, cap, used, remaining… */
  errorData: Record<string, unknown> | null;
  policyTrace: unknown[];
  approvalId: string | null;
  holdMicros: bigint;
  rail: string;
  capturedMicros: bigint;
  feeMicros: bigint;
  status: CallStatus | 'refused' | 'expired';
  httpStatus: number | null;
  /** One line, never a body or a secret. */
  summary: string | null;
  latencyMs: number | null;
  units: bigint | null;
  transfers: AuditTransfer[];
}

export interface AuditRecord extends AuditInput {
  /** `rec_…`. */
  id: string;
  /** Position in the chain: 1, 2, 3… with no gaps. */
  seq: bigint;
  /** `outcome`, or `refused:<code>` for refusals: unique per call. */
  kind: string;
  createdAt: Date;
  /** Hash of the record before this one (64 zeros for the first). */
  prevHash: string;
  /** SHA-256 (hex) of this record's canonical JSON, prev_hash included. */
  hash: string;
}

export interface AuditFilter {
  orgId?: string;
  userId?: string;
  grantId?: string;
  agentId?: string;
  taskId?: string;
  /** Service slug. */
  service?: string;
  outcome?: AuditOutcome;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

export interface AuditQuery extends AuditFilter {
  limit?: number;
  /** The `next` cursor of the previous page (records older than it). */
  before?: string;
}

export interface AuditPage {
  records: AuditRecord[];
  next?: string;
}

export type TamperProblem = 'edited' | 'inserted' | 'deleted' | 'reordered';

export type VerifyResult =
  | { ok: true; checked: number; headSeq: bigint; headHash: string }
  | { ok: false; checked: number; firstBadSeq: bigint; problem: TamperProblem; detail: string };

/** A chain position published elsewhere (a ticket, a log, a transparency service) to check against. */
export interface AuditAnchor {
  seq: bigint;
  hash: string;
}
