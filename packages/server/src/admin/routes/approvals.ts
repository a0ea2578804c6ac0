/**
 * @module admin/routes/approvals
 * Approvals: list, get, approve, deny, and a long-poll `wait` that an agent may call with its own
 * grant token (it sees only approvals of its grant or the grant's ancestors).
 */
import { z } from 'zod';
import { MoneyString, TollgateError, parseMicros, type Approval } from '@tollgate/core';
import type { Context } from 'hono';
import type { AppEnv } from '../../env.ts';
import { route, type RouteDef } from '../route.ts';
import { IdParams, Paging, orgFilter, requireOrg, type AdminDeps } from './deps.ts';

/** Longest single wait; clients loop for longer waits. */
export const APPROVAL_WAIT_MS_MAX_HTTP = 60_000;

const ApprovalView = z.object({
  id: z.string(), state: z.enum(['pending', 'approved', 'denied', 'expired']), scope: z.enum(['call', 'task', 'raise_cap']), callId: z.string(), grantId: z.string(),
  service: z.string(), tool: z.string(), priceMicros: z.string(), reason: z.string().nullable(), explanation: z.string(), expiresAt: z.string(),
});

const DecideBody = z.strictObject({
  /** Who decided; defaults to the API key's id. */
  decidedBy: z.string().min(1).max(200).optional(),
  scope: z.enum(['call', 'task', 'raise_cap']).optional(),
  /** For `raise_cap`: the amount to raise the grant by. */
  raise: MoneyString.optional(),
  note: z.string().max(1000).optional(),
  validForMs: z.number().int().min(1000).max(30 * 24 * 3600 * 1000).optional(),
});

export function approvalRoutes({ tg }: AdminDeps): RouteDef[] {
  const decide = (decision: 'approve' | 'deny') =>
    async ({ params, body, principal }: { params: { id: string }; body: z.output<typeof DecideBody> | undefined; principal: { role: string; keyId: string; orgId: string | null } }) => {
      const approval = await tg.approvals.get(params.id);
      requireOrg(principal as never, approval.orgId);
      const result = await tg.approvals.decide(params.id, {
        decision,
        decidedBy: body?.decidedBy ?? `key:${principal.keyId}`,
        ...(body?.scope ? { scope: body.scope } : {}),
        ...(body?.raise ? { raiseMicros: parseMicros(body.raise, { field: 'raise' }) } : {}),
        ...(body?.note ? { note: body.note } : {}),
        ...(body?.validForMs ? { validForMs: body.validForMs } : {}),
      });
      if (result.type === 'expired') throw new TollgateError('conflict', `approval ${params.id} expired before it was decided`, { approvalId: params.id, state: 'expired' });
      if (result.type === 'already_decided' && result.approval.state !== (decision === 'approve' ? 'approved' : 'denied')) {
        throw new TollgateError('conflict', `approval ${params.id} was already ${result.approval.state}`, { approvalId: params.id, state: result.approval.state });
      }
      return result.approval;
    };
  return [
    route({ method: 'get', path: '/v1/approvals', tag: 'approvals', summary: 'List approvals (newest first)', roles: ['admin', 'buyer'],
      query: z.strictObject({ state: z.enum(['pending', 'approved', 'denied', 'expired']).optional(), orgId: z.string().min(1).max(200).optional(), userId: z.string().min(1).max(200).optional(), ...Paging }),
      response: z.object({ items: z.array(ApprovalView), next: z.string().optional() }), handler: async ({ query, principal }) => {
        const orgId = orgFilter(principal, query.orgId);
        return tg.approvals.list({ ...query, ...(orgId ? { orgId } : {}) });
      } }),
    route({ method: 'get', path: '/v1/approvals/:id', tag: 'approvals', summary: 'Get an approval', roles: ['admin', 'buyer'], params: IdParams, response: ApprovalView, handler: async ({ params, principal }) => {
      const approval = await tg.approvals.get(params.id);
      requireOrg(principal, approval.orgId);
      return approval;
    } }),
    route({ method: 'post', path: '/v1/approvals/:id/approve', tag: 'approvals', summary: 'Approve (optionally widen the scope or set the raise)', roles: ['admin', 'buyer'], params: IdParams, body: DecideBody, response: ApprovalView, handler: decide('approve') }),
    route({ method: 'post', path: '/v1/approvals/:id/deny', tag: 'approvals', summary: 'Deny', roles: ['admin', 'buyer'], params: IdParams, body: DecideBody, response: ApprovalView, handler: decide('deny') }),
    route({ method: 'get', path: '/v1/approvals/:id/wait', tag: 'approvals', summary: 'Long-poll until the approval is decided or `timeoutMs` passes (API key or the grant token that asked)', roles: ['admin', 'buyer'], publicAuth: true,
      params: IdParams, query: z.strictObject({ timeoutMs: z.coerce.number().int().min(0).max(APPROVAL_WAIT_MS_MAX_HTTP).default(25_000) }), response: ApprovalView, handler: async ({ c, params, query }) => {
        await authorizeWait(c, tg, params.id);
        return tg.approvals.wait(params.id, { timeoutMs: query.timeoutMs });
      } }),
  ];
}

/** The wait route is reachable with an API key (set by the middleware) or with the grant token that asked. */
async function authorizeWait(c: Context<AppEnv>, tg: AdminDeps['tg'], approvalId: string): Promise<Approval> {
  const principal = c.get('principal');
  const approval = await tg.approvals.get(approvalId);
  if (principal) {
    requireOrg(principal, approval.orgId);
    return approval;
  }
  const token = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!token) throw new TollgateError('unauthorized', 'Send an API key or the grant token that asked for this approval');
  const grant = await tg.grants.authenticate(token);
  const lineage = await tg.grants.lineage(grant);
  if (!lineage.some((g) => g.id === approval.grantId) && approval.grantId !== grant.id) {
    throw new TollgateError('forbidden', 'this grant token did not ask for this approval', { approvalId });
  }
  return approval;
}
