/**
 * @module audit/explain
 * Turns a record into a paragraph a person can read: why this call was paid (grant, policy rule,
 * approval, price, what was held and captured), or why it was blocked and by what (which limit,
 * its cap, what was used and what remained; which rule; a revoked grant; a pending approval).
 */
import { formatMicros } from '../money.ts';
import type { AuditRecord } from './types.ts';
import { LIMIT_LABELS } from '../limits/accounts.ts';

/** The approval as it stands now (the record keeps only its id). */
export interface ApprovalFacts {
  id: string;
  state: string;
  decidedBy: string | null;
  scope: string;
  trigger: string;
  expiresAt: Date;
}

const LIMIT_NAMES: Readonly<Record<string, string>> = LIMIT_LABELS;

const STATUS_PHRASES: Record<string, string> = {
  upstream_failed: 'the upstream failed',
  upstream_timeout: 'the upstream timed out',
  cancelled: 'the call was cancelled',
  tool_error: 'the tool returned an error',
  expired: 'its hold expired before the call settled',
};

/** An amount from error data: already a decimal string (as refusals write it), or micros. */
function amount(value: unknown): string {
  if (typeof value === 'bigint') return formatMicros(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value;
  return '?';
}

function who(r: AuditRecord): string {
  const parts = [`call ${r.callId} to ${r.service} (${r.tool})`];
  if (r.taskId) parts.push(`for task ${r.taskId}`);
  if (r.agentId) parts.push(`by agent ${r.agentId}`);
  if (r.grantId) parts.push(`under grant ${r.grantId}${r.userId ? ` of user ${r.userId}` : ''}`);
  return parts.join(' ');
}

/** The human reason a rule gave, from the error data or the policy trace entry of that rule. */
function ruleReason(r: AuditRecord): string | undefined {
  const fromError = r.errorData?.reason;
  if (typeof fromError === 'string' && fromError) return fromError;
  for (const entry of r.policyTrace) {
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const id = e.ruleId ?? e.rule ?? e.id;
    if ((r.ruleId === null || id === r.ruleId) && typeof e.reason === 'string' && (e.decided === true || id === r.ruleId)) return e.reason;
  }
  return undefined;
}

function policySentence(r: AuditRecord): string {
  const why = ruleReason(r);
  if (r.ruleId) return `Policy allowed it by rule ${r.ruleId}${why ? ` (${why})` : ''}.`;
  return 'Policy allowed it: no rule objected.';
}

function approvalSentence(r: AuditRecord, approval: ApprovalFacts | undefined): string | undefined {
  if (!r.approvalId) return undefined;
  if (!approval) return `It ran under approval ${r.approvalId}.`;
  const by = approval.decidedBy ? ` by ${approval.decidedBy}` : '';
  const scope = approval.scope === 'task' ? 'this service for the whole task' : approval.scope === 'raise_cap' ? 'a raise of the grant cap' : 'this call once';
  return `A person approved it${by} (approval ${approval.id}, allowing ${scope}).`;
}

function paid(r: AuditRecord, approval: ApprovalFacts | undefined): string[] {
  const released = r.holdMicros - r.capturedMicros;
  return [
    `Paid ${formatMicros(r.capturedMicros)} for ${who(r)}.`,
    ...(r.reason ? [`The agent's declared reason: "${r.reason}".`] : []),
    policySentence(r),
    ...(approvalSentence(r, approval) ? [approvalSentence(r, approval)!] : []),
    `The price was quoted at ${formatMicros(r.priceMicros)} (${r.pricing} pricing); ${formatMicros(r.holdMicros)} was held across every limit and ` +
      `${formatMicros(r.capturedMicros)} captured on the ${r.rail} rail` +
      `${r.feeMicros > 0n ? `, of which ${formatMicros(r.feeMicros)} is the platform fee` : ''}` +
      `${released > 0n ? `; the other ${formatMicros(released)} was released` : ''}.`,
    result(r),
  ];
}

function result(r: AuditRecord): string {
  const http = r.httpStatus !== null ? ` (HTTP ${r.httpStatus})` : '';
  const took = r.latencyMs !== null ? ` in ${r.latencyMs} ms` : '';
  return `The service answered ${r.status}${http}${took}${r.summary ? `: ${r.summary}` : ''}.`;
}

function notCharged(r: AuditRecord): string[] {
  const why = STATUS_PHRASES[r.status] ?? `the call ended with ${r.status}`;
  const lead = r.outcome === 'expired'
    ? `Nothing was charged for ${who(r)}: ${why}, and the ${formatMicros(r.holdMicros)} held was released by the sweeper.`
    : `Nothing was charged for ${who(r)}: ${why}${r.httpStatus !== null ? ` (HTTP ${r.httpStatus})` : ''}, so the ${formatMicros(r.holdMicros)} held was released.`;
  return [lead, ...(r.summary && r.outcome !== 'expired' ? [`Result: ${r.summary}.`] : [])];
}

function blockedBy(r: AuditRecord, approval: ApprovalFacts | undefined): string {
  const d = r.errorData ?? {};
  switch (r.errorCode) {
    case 'budget_exceeded': {
      const label = LIMIT_NAMES[String(d.limit)] ?? `the ${String(d.limit ?? 'unknown')} limit`;
      const held = d.held !== undefined ? `, ${amount(d.held)} held` : '';
      return `it would exceed ${label}: the cap is ${amount(d.cap)}, ${amount(d.used)} is used${held} and ${amount(d.remaining)} remains, but this call needed ${amount(d.requested)}.`;
    }
    case 'rate_limited':
      return `the rate limit of ${amount(d.cap)} calls per minute was reached.`;
    case 'insufficient_funds':
      return `the wallet had only ${amount(d.available)} available and this call needed ${amount(d.requested)}.`;
    case 'policy_denied': {
      const why = ruleReason(r);
      return `policy rule ${String(d.rule ?? r.ruleId ?? 'default')} denies it${why ? `: ${why}` : ''}.`;
    }
    case 'grant_revoked':
      return `grant ${r.grantId ?? String(d.grantId ?? '')} has been revoked.`;
    case 'token_invalid':
    case 'token_expired':
      return `the grant token was ${r.errorCode === 'token_invalid' ? 'invalid' : 'expired'}.`;
    case 'approval_required':
      return `a person must approve it first${r.ruleId ? ` (${r.ruleId})` : ''}. ${approvalState(r, approval)}`;
    case 'approval_denied':
      return `approval ${r.approvalId ?? ''} was denied${approval?.decidedBy ? ` by ${approval.decidedBy}` : ''}.`;
    default:
      return `of ${r.errorCode ?? 'an unknown reason'}${r.summary ? `: ${r.summary}` : ''}.`;
  }
}

function approvalState(r: AuditRecord, approval: ApprovalFacts | undefined): string {
  const id = approval?.id ?? r.approvalId;
  if (!id) return 'No approval was created.';
  if (!approval || approval.state === 'pending') return `Approval ${id} is pending${approval ? ` until ${approval.expiresAt.toISOString()}` : ''}; the agent retries with the approval id once it is decided.`;
  if (approval.state === 'approved') return `Approval ${id} has since been approved${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}; a retry with the approval id goes through.`;
  if (approval.state === 'denied') return `Approval ${id} was denied${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}.`;
  return `Approval ${id} expired without a decision.`;
}

export function explainRecord(r: AuditRecord, approval?: ApprovalFacts): string {
  if (r.outcome === 'captured') return paid(r, approval).join(' ');
  if (r.outcome === 'voided' || r.outcome === 'expired') return notCharged(r).join(' ');
  const sentences = [`Blocked before any money moved: ${who(r)} was refused because ${blockedBy(r, approval)}`];
  sentences.push(`The price was quoted at ${formatMicros(r.priceMicros)}.`);
  if (r.reason) sentences.push(`The agent's declared reason: "${r.reason}".`);
  return sentences.join(' ');
}
