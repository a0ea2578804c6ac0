/**
 * @module guard/records
 * Builds the audit record of a finished call from what authorize stored and what settle learned.
 */
import type { Grant } from '../grants/grants.ts';
import type { TransferInput } from '../ledger/types.ts';
import type { CallContext as StoredContext, CallRow } from './call-store.ts';
import type { CallContext } from './context.ts';
import type { Step } from './hold-chain.ts';
import type { CallRecord, LedgerMovement } from './ports.ts';
import type { CallRequest, SettleInput } from './types.ts';

/** What authorize has learned so far about a call, for the record if it is refused. */
export interface Attempt {
  callId: string;
  grant: Grant;
  request: CallRequest;
  decision: string;
  trace: unknown[];
  ruleId: string | null;
  approvalId: string | null;
  context: CallContext | undefined;
}

export function movements(transfers: readonly TransferInput[], steps?: readonly Step[]): LedgerMovement[] {
  return transfers.map((t, i) => ({
    id: t.id,
    debit: t.debitAccountId ?? '',
    credit: t.creditAccountId ?? '',
    amount: t.amount ?? 0n,
    kind: steps?.[i] ? `hold:${steps[i]!.kind}` : t.pendingId ? (t.flags !== undefined && (t.flags & 8) !== 0 ? 'void' : 'post') : `code:${t.code ?? 1}`,
  }));
}

/** The hold movements authorize stored in the call's JSON context, with their amounts as bigints again. */
export function storedMovements(context: StoredContext): LedgerMovement[] {
  const stored = (context.audit.holdTransfers as (Omit<LedgerMovement, 'amount'> & { amount: string | number })[] | undefined) ?? [];
  return stored.map((m) => ({ ...m, amount: BigInt(m.amount) }));
}

type Base = Omit<CallRecord, 'outcome' | 'capturedMicros' | 'feeMicros' | 'transfers'>;

export function recordBase(row: CallRow, input: SettleInput): Base {
  const audit = row.context.audit as Record<string, unknown> & { request: Partial<CallRequest> & { service?: { id: string; slug: string; sellerId: string } } };
  const request = audit.request ?? {};
  return {
    callId: row.id,
    orgId: row.org_id,
    projectId: (audit.projectId as string | null) ?? null,
    userId: row.user_id,
    grantId: row.grant_id,
    agentId: (audit.agentId as string | null) ?? null,
    taskId: row.task_id,
    serviceId: row.service_id,
    service: request.service?.slug ?? row.service_id,
    sellerId: row.context.sellerId,
    tool: String(request.tool ?? ''),
    reason: (request.reason as string | undefined) ?? null,
    edge: (request.edge as CallRequest['edge']) ?? 'http',
    priceMicros: BigInt(String(request.priceMicros ?? row.hold_micros)),
    pricing: row.context.pricing,
    decision: String(audit.decision ?? 'allow'),
    errorCode: null,
    errorData: null,
    policyTrace: (audit.trace as unknown[]) ?? [],
    ruleId: (audit.ruleId as string | null) ?? null,
    approvalId: (audit.approvalId as string | null) ?? null,
    holdMicros: row.hold_micros,
    rail: 'balance',
    status: input.status,
    httpStatus: input.httpStatus ?? null,
    summary: input.summary ?? null,
    latencyMs: input.latencyMs ?? null,
    units: input.units ?? null,
  };
}
