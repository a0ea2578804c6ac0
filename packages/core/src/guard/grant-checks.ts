/**
 * @module guard/grant-checks
 * The stateless checks of a grant against one call: status and window of the grant and every
 * ancestor, the agent and task it is bound to, its services and tools, and the per-call cap.
 * The ledger's gate still decides revocation atomically; this check gives the early, clear answer.
 */
import { TollgateError } from '../errors.ts';
import type { Grant } from '../grants/grants.ts';
import { matchesAny } from '../grants/patterns.ts';
import { formatMicros, parseMicros } from '../money.ts';
import type { CallRequest } from './types.ts';

function denied(rule: string, reason: string): TollgateError {
  return new TollgateError('policy_denied', reason, { rule, reason });
}

export function checkGrant(lineage: readonly Grant[], request: CallRequest, now: Date): void {
  const grant = lineage[0]!;
  for (const g of lineage) {
    const whose = g.id === grant.id ? 'The grant' : `Its parent grant ${g.id}`;
    if (g.revokedAt) throw new TollgateError('grant_revoked', `${whose} was revoked at ${g.revokedAt.toISOString()}`, { grantId: g.id });
    if (g.expiresAt && g.expiresAt <= now) throw new TollgateError('token_expired', `${whose} expired at ${g.expiresAt.toISOString()}`, { grantId: g.id, expiresAt: g.expiresAt.toISOString() });
    if (g.notBefore && g.notBefore > now) throw new TollgateError('token_invalid', `${whose} is not valid before ${g.notBefore.toISOString()}`, { grantId: g.id, notBefore: g.notBefore.toISOString() });
    if (!matchesAny(g.services, request.service.slug)) {
      throw denied('grant:services', `${whose} does not allow the service ${request.service.slug} (allowed: ${g.services.join(', ')})`);
    }
    if (g.tools.length > 0 && !matchesAny(g.tools, request.tool)) {
      throw denied('grant:tools', `${whose} does not allow the tool ${request.tool} (allowed: ${g.tools.join(', ')})`);
    }
    if (g.perCallCapMicros !== null && request.priceMicros > g.perCallCapMicros) {
      throw new TollgateError('budget_exceeded', `This call costs ${formatMicros(request.priceMicros)}, above the per-call cap of ${formatMicros(g.perCallCapMicros)}`, {
        limit: 'per_call',
        grantId: g.id,
        unit: 'money',
        cap: formatMicros(g.perCallCapMicros),
        requested: formatMicros(request.priceMicros),
      });
    }
  }
  if (grant.agentId && request.agentId && request.agentId !== grant.agentId) {
    throw denied('grant:agent', `The grant is for agent ${grant.agentId}, not ${request.agentId}`);
  }
  if (grant.taskId && request.taskId && request.taskId !== grant.taskId) {
    throw denied('grant:task', `The grant is for task ${grant.taskId}, not ${request.taskId}`);
  }
}

/** The grant's own "ask again" conditions; returns why, or undefined when none applies. */
export function reapprovalReason(grant: Grant, request: CallRequest): string | undefined {
  const r = grant.reapproval;
  if (r.priceAbove !== undefined && request.priceMicros > parseMicros(r.priceAbove, { field: 'reapproval.priceAbove' })) {
    return `the grant asks again for calls above ${r.priceAbove}`;
  }
  if (r.tools && matchesAny(r.tools, request.tool)) return `the grant asks again for the tool ${request.tool}`;
  if (r.categories?.includes(request.service.category)) return `the grant asks again for the category ${request.service.category}`;
  return undefined;
}

