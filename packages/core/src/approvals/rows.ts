/**
 * @module approvals/rows
 * Pure helpers of the approval store: row ↔ object, input checks, and the rules of what an
 * approved approval covers. Kept apart so the store reads as SQL and the rules as rules.
 */
import { invalid } from '../errors.ts';
import { assertMicros, formatMicros } from '../money.ts';
import { ID_LENGTH_MAX } from '../constants.ts';
import type { Approval, ApprovalScope, ApprovalState, ConsumeFacts, CreateApprovalInput, DecideInput, NotCoveredWhy } from './types.ts';

export type Row = Record<string, unknown>;

const SCOPES: readonly ApprovalScope[] = ['call', 'task', 'raise_cap'];
const TEXT_LENGTH_MAX = 2_000;

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));
const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function approvalFrom(row: Row): Approval {
  return {
    id: row.id as string,
    orgId: row.org_id as string,
    userId: row.user_id as string,
    grantId: row.grant_id as string,
    callId: row.call_id as string,
    taskId: text(row.task_id),
    agentId: text(row.agent_id),
    service: row.service as string,
    tool: row.tool as string,
    priceMicros: BigInt(row.price_micros as bigint),
    reason: text(row.reason),
    trigger: row.trigger as string,
    ruleId: text(row.rule_id),
    explanation: row.explanation as string,
    state: row.state as ApprovalState,
    scope: row.scope as ApprovalScope,
    raiseMicros: row.raise_micros === null || row.raise_micros === undefined ? null : BigInt(row.raise_micros as bigint),
    decidedBy: text(row.decided_by),
    decidedAt: date(row.decided_at),
    note: text(row.note),
    expiresAt: date(row.expires_at)!,
    usedAt: date(row.used_at),
    usedByCallId: text(row.used_by_call_id),
    createdAt: date(row.created_at)!,
  };
}

/** The wire form (webhooks, API): snake_case, amounts as decimal strings in micros and formatted. */
export function approvalJson(a: Approval): Record<string, unknown> {
  return {
    id: a.id, org_id: a.orgId, user_id: a.userId, grant_id: a.grantId, call_id: a.callId, task_id: a.taskId,
    agent_id: a.agentId, service: a.service, tool: a.tool,
    price_micros: a.priceMicros.toString(), price: formatMicros(a.priceMicros),
    reason: a.reason, trigger: a.trigger, rule_id: a.ruleId, explanation: a.explanation, state: a.state, scope: a.scope,
    raise_micros: a.raiseMicros?.toString() ?? null,
    decided_by: a.decidedBy, decided_at: a.decidedAt?.toISOString() ?? null, note: a.note,
    expires_at: a.expiresAt.toISOString(), used_at: a.usedAt?.toISOString() ?? null, created_at: a.createdAt.toISOString(),
  };
}

function id(field: string, value: unknown, optional = false): string | null {
  if (optional && (value === null || value === undefined)) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > ID_LENGTH_MAX) {
    throw invalid(field, `must be a non-empty string of at most ${ID_LENGTH_MAX} characters`);
  }
  return value;
}

function words(field: string, value: unknown, optional = false): string | null {
  if (optional && (value === null || value === undefined)) return null;
  if (typeof value !== 'string' || (!optional && value.length === 0) || value.length > TEXT_LENGTH_MAX) {
    throw invalid(field, `must be a string of at most ${TEXT_LENGTH_MAX} characters`);
  }
  return value;
}

function scopeOf(value: unknown): ApprovalScope {
  if (!SCOPES.includes(value as ApprovalScope)) throw invalid('scope', `must be one of ${SCOPES.join(', ')}`);
  return value as ApprovalScope;
}

export function checkCreate(input: CreateApprovalInput) {
  const scope = scopeOf(input.scope ?? 'call');
  const raiseMicros = input.raiseMicros === undefined ? null : assertMicros(input.raiseMicros, { field: 'raiseMicros', allowZero: false });
  if (scope === 'raise_cap' && raiseMicros === null) throw invalid('raiseMicros', 'is required when the scope is raise_cap');
  if (scope === 'task' && !input.taskId) throw invalid('taskId', 'is required when the scope is task');
  if (input.ttlMs !== undefined && (!Number.isInteger(input.ttlMs) || input.ttlMs <= 0)) throw invalid('ttlMs', 'must be a positive integer');
  return {
    callId: id('callId', input.callId)!, orgId: id('orgId', input.orgId)!, userId: id('userId', input.userId)!,
    grantId: id('grantId', input.grantId)!, taskId: id('taskId', input.taskId, true), agentId: id('agentId', input.agentId, true),
    service: id('service', input.service)!, tool: words('tool', input.tool)!,
    priceMicros: assertMicros(input.priceMicros, { field: 'priceMicros' }),
    reason: words('reason', input.reason, true), trigger: id('trigger', input.trigger)!, ruleId: id('ruleId', input.ruleId, true),
    explanation: words('explanation', input.explanation)!, scope, raiseMicros: scope === 'raise_cap' ? raiseMicros : null,
  };
}

/** The columns a decision writes. */
export function checkDecide(current: Approval, input: DecideInput, now: Date, validForMsDefault: number) {
  if (input.decision !== 'approve' && input.decision !== 'deny') throw invalid('decision', 'must be approve or deny');
  const decidedBy = id('decidedBy', input.decidedBy)!;
  const note = words('note', input.note, true);
  if (input.decision === 'deny') {
    return { state: 'denied' as const, decidedBy, note, scope: current.scope, raiseMicros: current.raiseMicros, expiresAt: current.expiresAt };
  }
  const scope = scopeOf(input.scope ?? current.scope);
  if (scope === 'task' && !current.taskId) throw invalid('scope', 'task needs a call that belongs to a task');
  let raiseMicros: bigint | null = null;
  if (scope === 'raise_cap') {
    raiseMicros = assertMicros(input.raiseMicros ?? current.raiseMicros ?? 0n, { field: 'raiseMicros', allowZero: false });
  }
  const validForMs = input.validForMs ?? validForMsDefault;
  if (!Number.isInteger(validForMs) || validForMs <= 0) throw invalid('validForMs', 'must be a positive integer');
  return { state: 'approved' as const, decidedBy, note, scope, raiseMicros, expiresAt: new Date(now.getTime() + validForMs) };
}

/** Why an approval does not cover these call facts right now, or undefined when it does. */
export function coverageProblem(a: Approval, facts: ConsumeFacts, now: Date): NotCoveredWhy | undefined {
  if (a.state === 'pending') return a.expiresAt <= now ? 'expired' : 'pending';
  if (a.state === 'denied') return 'denied';
  if (a.state === 'expired' || a.expiresAt <= now) return 'expired';
  if (a.grantId !== facts.grantId) return 'other_grant';
  if (a.usedAt) return 'used';
  if (a.scope === 'call') {
    if (a.callId !== facts.callId) return 'other_call';
    if (facts.priceMicros > a.priceMicros) return 'price_above_approved';
  }
  if (a.scope === 'task') {
    if (!a.taskId || a.taskId !== facts.taskId) return 'other_task';
    if (a.service !== facts.service) return 'other_service';
  }
  return undefined;
}
