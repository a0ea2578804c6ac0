/**
 * @module audit/rows
 * The three shapes of a record: the caller's input (checked and normalized here), the stored form
 * (snake_case, exactly the columns; what the hash covers), and the `AuditRecord` callers read.
 */
import { invalid } from '../errors.ts';
import { canonicalJson, cleanText, jsonValue, sha256Hex } from './canonical.ts';
import type { AuditInput, AuditOutcome, AuditRecord, AuditTransfer } from './types.ts';

export type Row = Record<string, unknown>;

const OUTCOMES: readonly AuditOutcome[] = ['captured', 'voided', 'refused', 'expired'];
const SUMMARY_LENGTH_MAX = 1_000;
const TEXT_LENGTH_MAX = 2_000;
const TRANSFERS_PER_RECORD_MAX = 256;
const INT32_MAX = 2_147_483_647;

/** The stored columns of a record, in the form the hash covers (everything but `hash`). */
export interface Stored {
  seq: bigint; id: string; call_id: string; outcome: AuditOutcome; kind: string;
  org_id: string | null; project_id: string | null; user_id: string | null; grant_id: string | null;
  agent_id: string | null; task_id: string | null; service: string; service_id: string; seller_id: string | null;
  tool: string; reason: string | null; edge: string; price_micros: bigint; pricing: string; decision: string;
  rule_id: string | null; error_code: string | null; error_data: unknown; policy_trace: unknown; approval_id: string | null;
  hold_micros: bigint; rail: string; captured_micros: bigint; fee_micros: bigint; status: string;
  http_status: number | null; summary: string | null; latency_ms: number | null; units: bigint | null;
  transfers: { id: string; debit: string; credit: string; amount: bigint | string; kind: string }[];
  created_at: Date; prev_hash: string;
}

export function hashStored(stored: Stored): string {
  return sha256Hex(canonicalJson(stored));
}

function need(field: string, value: unknown, max = TEXT_LENGTH_MAX): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'must be a non-empty string');
  return cleanText(value.slice(0, max));
}

function maybe(field: string, value: unknown, max = TEXT_LENGTH_MAX): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw invalid(field, 'must be a string or null');
  return cleanText(value.slice(0, max));
}

function micros(field: string, value: unknown): bigint {
  if (typeof value !== 'bigint' || value < 0n) throw invalid(field, 'must be a non-negative bigint');
  return value;
}

function int(field: string, value: unknown, min: number, max: number): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'must be a finite number or null');
  return Math.min(Math.max(Math.round(value), min), max);
}

/**
 * Movements often come back from a JSON column (a call's stored context), where amounts are decimal
 * strings or plain numbers; accept those exactly and nothing else.
 */
function integer(value: unknown): unknown {
  if (typeof value === 'string' && /^[0-9]{1,19}$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  return value;
}

function transfersOf(list: unknown): AuditTransfer[] {
  if (!Array.isArray(list) || list.length > TRANSFERS_PER_RECORD_MAX) throw invalid('transfers', `must be an array of at most ${TRANSFERS_PER_RECORD_MAX}`);
  return list.map((t: AuditTransfer, i) => ({
    id: need(`transfers.${i}.id`, t.id), debit: String(t.debit ?? ''), credit: String(t.credit ?? ''),
    amount: micros(`transfers.${i}.amount`, integer(t.amount)), kind: String(t.kind ?? ''),
  }));
}

/** Checks an input and gives it the stable form that will be stored and hashed. */
export function normalize(input: AuditInput): AuditInput & { kind: string } {
  if (!OUTCOMES.includes(input.outcome)) throw invalid('outcome', `must be one of ${OUTCOMES.join(', ')}`);
  const errorCode = maybe('errorCode', input.errorCode, 100);
  return {
    callId: need('callId', input.callId), outcome: input.outcome,
    kind: input.outcome === 'refused' ? `refused:${errorCode ?? 'unknown'}` : input.outcome,
    orgId: maybe('orgId', input.orgId), projectId: maybe('projectId', input.projectId), userId: maybe('userId', input.userId),
    grantId: maybe('grantId', input.grantId), agentId: maybe('agentId', input.agentId), taskId: maybe('taskId', input.taskId),
    serviceId: need('serviceId', input.serviceId), service: need('service', input.service), sellerId: maybe('sellerId', input.sellerId),
    tool: need('tool', input.tool), reason: maybe('reason', input.reason), edge: need('edge', input.edge, 20),
    priceMicros: micros('priceMicros', input.priceMicros), pricing: need('pricing', input.pricing, 20), decision: need('decision', input.decision, 100),
    ruleId: maybe('ruleId', input.ruleId), errorCode,
    errorData: input.errorData === null || input.errorData === undefined ? null : (jsonValue(input.errorData) as Record<string, unknown>),
    policyTrace: jsonValue(Array.isArray(input.policyTrace) ? input.policyTrace : []) as unknown[],
    approvalId: maybe('approvalId', input.approvalId), holdMicros: micros('holdMicros', input.holdMicros), rail: need('rail', input.rail, 20),
    capturedMicros: micros('capturedMicros', input.capturedMicros), feeMicros: micros('feeMicros', input.feeMicros),
    status: need('status', input.status, 40) as AuditInput['status'], httpStatus: int('httpStatus', input.httpStatus, 0, 999),
    summary: maybe('summary', input.summary, SUMMARY_LENGTH_MAX), latencyMs: int('latencyMs', input.latencyMs, 0, INT32_MAX),
    units: input.units === null || input.units === undefined ? null : micros('units', input.units), transfers: transfersOf(input.transfers),
  };
}

export function storedOf(r: AuditInput & { kind: string; id: string; seq: bigint; createdAt: Date; prevHash: string }): Stored {
  return {
    seq: r.seq, id: r.id, call_id: r.callId, outcome: r.outcome, kind: r.kind, org_id: r.orgId, project_id: r.projectId,
    user_id: r.userId, grant_id: r.grantId, agent_id: r.agentId, task_id: r.taskId, service: r.service, service_id: r.serviceId,
    seller_id: r.sellerId, tool: r.tool, reason: r.reason, edge: r.edge, price_micros: r.priceMicros, pricing: r.pricing,
    decision: r.decision, rule_id: r.ruleId, error_code: r.errorCode, error_data: r.errorData, policy_trace: r.policyTrace,
    approval_id: r.approvalId, hold_micros: r.holdMicros, rail: r.rail, captured_micros: r.capturedMicros, fee_micros: r.feeMicros,
    status: r.status, http_status: r.httpStatus, summary: r.summary, latency_ms: r.latencyMs, units: r.units,
    transfers: r.transfers.map((t) => ({ id: t.id, debit: t.debit, credit: t.credit, amount: t.amount, kind: t.kind })),
    created_at: r.createdAt, prev_hash: r.prevHash,
  };
}

const big = (v: unknown): bigint => BigInt(v as bigint | string);
const bigOrNull = (v: unknown): bigint | null => (v === null || v === undefined ? null : big(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A database row in stored form, untouched, so verify hashes exactly what is in the table. */
export function storedFromRow(row: Row): Stored {
  return {
    seq: big(row.seq), id: row.id as string, call_id: row.call_id as string, outcome: row.outcome as AuditOutcome, kind: row.kind as string,
    org_id: (row.org_id as string | null) ?? null, project_id: (row.project_id as string | null) ?? null, user_id: (row.user_id as string | null) ?? null,
    grant_id: (row.grant_id as string | null) ?? null, agent_id: (row.agent_id as string | null) ?? null, task_id: (row.task_id as string | null) ?? null,
    service: row.service as string, service_id: row.service_id as string, seller_id: (row.seller_id as string | null) ?? null,
    tool: row.tool as string, reason: (row.reason as string | null) ?? null, edge: row.edge as string, price_micros: big(row.price_micros),
    pricing: row.pricing as string, decision: row.decision as string, rule_id: (row.rule_id as string | null) ?? null,
    error_code: (row.error_code as string | null) ?? null, error_data: row.error_data ?? null, policy_trace: row.policy_trace,
    approval_id: (row.approval_id as string | null) ?? null, hold_micros: big(row.hold_micros), rail: row.rail as string,
    captured_micros: big(row.captured_micros), fee_micros: big(row.fee_micros), status: row.status as string,
    http_status: numOrNull(row.http_status), summary: (row.summary as string | null) ?? null, latency_ms: numOrNull(row.latency_ms),
    units: bigOrNull(row.units), transfers: row.transfers as Stored['transfers'], created_at: new Date(row.created_at as string), prev_hash: row.prev_hash as string,
  };
}

export function recordFromStored(s: Stored, hash: string): AuditRecord {
  return {
    id: s.id, seq: s.seq, kind: s.kind, callId: s.call_id, outcome: s.outcome, orgId: s.org_id, projectId: s.project_id, userId: s.user_id,
    grantId: s.grant_id, agentId: s.agent_id, taskId: s.task_id, serviceId: s.service_id, service: s.service, sellerId: s.seller_id,
    tool: s.tool, reason: s.reason, edge: s.edge, priceMicros: s.price_micros, pricing: s.pricing, decision: s.decision, ruleId: s.rule_id,
    errorCode: s.error_code, errorData: (s.error_data as Record<string, unknown> | null) ?? null, policyTrace: (s.policy_trace as unknown[]) ?? [],
    approvalId: s.approval_id, holdMicros: s.hold_micros, rail: s.rail, capturedMicros: s.captured_micros, feeMicros: s.fee_micros,
    status: s.status as AuditRecord['status'], httpStatus: s.http_status, summary: s.summary, latencyMs: s.latency_ms, units: s.units,
    transfers: (s.transfers ?? []).map((t) => ({ id: t.id, debit: t.debit, credit: t.credit, amount: big(t.amount), kind: t.kind })),
    createdAt: s.created_at, prevHash: s.prev_hash, hash,
  };
}

export function recordFromRow(row: Row): AuditRecord {
  return recordFromStored(storedFromRow(row), row.hash as string);
}

/** The wire form for JSON Lines and APIs: snake_case, bigints as decimal strings. */
export function recordJson(r: AuditRecord): Record<string, unknown> {
  return JSON.parse(canonicalJson({ ...storedOf(r), hash: r.hash }));
}
