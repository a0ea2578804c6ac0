/**
 * @module mcp/own-tools
 * The gateway's own tools for the agent: `setup`, `check_budget`, `list_services`, `call_service`
 * (a paid HTTP call through the proxy) and `approval_status`. They never move money themselves;
 * `call_service` goes through the same proxy (and guard) as any HTTP client.
 */
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { TollgateError, accountId, formatMicros, matchesPattern } from '@tollgate/core';
import type { GatewayDeps, GatewaySession } from './deps.ts';
import { problemResult, jsonResult } from './results.ts';

/** Longest body `call_service` sends or returns. */
const CALL_SERVICE_BODY_CHARS_MAX = 256 * 1024;

export const OWN_TOOLS: Tool[] = [
  { name: 'setup', description: 'Whether a Tollgate token is configured and valid, and how to get one.', inputSchema: { type: 'object', properties: {} } },
  {
    name: 'check_budget',
    description: 'What your grant can still spend, what it has spent (also within a task), and which limits apply.',
    inputSchema: { type: 'object', properties: { task: { type: 'string', description: 'A task id: also report what this task has spent' } } },
  },
  { name: 'list_services', description: 'Paid services you may call, with their prices.', inputSchema: { type: 'object', properties: {} } },
  {
    name: 'call_service',
    description: 'A paid HTTP call to a registered service through the Tollgate proxy. Charged only for a successful answer.',
    inputSchema: {
      type: 'object',
      properties: {
        service: { type: 'string', description: 'Service slug from list_services' },
        method: { type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], default: 'GET' },
        path: { type: 'string', description: 'Path on the service, e.g. /search?q=x', default: '/' },
        body: { type: 'string', description: 'Request body (JSON text)' },
        idempotencyKey: { type: 'string', description: 'Reuse it when retrying so the call is charged once' },
        task: { type: 'string' },
        reason: { type: 'string', description: 'Why you make this call (kept in the audit record)' },
        approvalId: { type: 'string', description: 'An approved approval id, when retrying a call that needed one' },
      },
      required: ['service'],
    },
  },
  {
    name: 'approval_status',
    description: 'The state of an approval (pending, approved, denied, expired). Retry the call with its id once approved.',
    inputSchema: { type: 'object', properties: { approvalId: { type: 'string' } }, required: ['approvalId'] },
  },
];

export const OWN_TOOL_NAMES = new Set(OWN_TOOLS.map((t) => t.name));

export async function ownToolCall(deps: GatewayDeps, session: GatewaySession, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  try {
    if (name === 'setup') return jsonResult(setup(session));
    const grant = requireGrant(session);
    switch (name) {
      case 'check_budget':
        return jsonResult(await checkBudget(deps, grant, args));
      case 'list_services': {
        const services = (await deps.services.list()).filter((s) => !s.disabled && grant.services.some((p) => matchesPattern(p, s.slug)));
        return jsonResult({ services: services.map((s) => ({ slug: s.slug, name: s.name, kind: s.kind, category: s.category, prices: s.prices, freeCallsPerMonth: s.freeCallsPerMonth })) });
      }
      case 'call_service':
        return await callService(deps, session, args);
      case 'approval_status': {
        const approval = await deps.tg.approvals.get(String(args.approvalId ?? ''));
        if (approval.grantId !== grant.id) throw new TollgateError('not_found', `no approval ${String(args.approvalId)}`, { approvalId: String(args.approvalId) });
        return jsonResult({ approvalId: approval.id, state: approval.state, scope: approval.scope, service: approval.service, tool: approval.tool,
          price: formatMicros(approval.priceMicros), expiresAt: approval.expiresAt.toISOString(),
          next: approval.state === 'approved' ? `Retry the call with _meta["io.tollgate/approvalId"] = "${approval.id}" (or approvalId for call_service).` : approval.state === 'pending' ? 'Ask the person to decide, then check again.' : 'This approval cannot be used.' });
      }
      default:
        throw new TollgateError('not_found', `no tool ${name}`, { tool: name });
    }
  } catch (error) {
    return problemResult(error);
  }
}

/** The grant's budget, the task's spend, the wallet, and the monthly limits of the user and org. */
async function checkBudget(deps: GatewayDeps, grant: NonNullable<GatewaySession['grant']>, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { tg } = deps;
  const view = await tg.grants.get(grant.id);
  const task = typeof args.task === 'string' ? args.task : view.taskId;
  const [spent] = task ? await tg.db.query<{ micros: string | bigint }>(
    "SELECT coalesce(sum(charged_micros), 0) AS micros FROM calls WHERE grant_id = $1 AND task_id = $2 AND state = 'captured'", [grant.id, task]) : [];
  const [user, org, wallet] = await Promise.all([tg.principals.getUser(grant.userId), tg.principals.getOrg(grant.orgId), tg.wallets.balance(grant.userId)]);
  // Monthly limit accounts are named per calendar month (UTC), as the guard names them.
  const month = new Date().toISOString().slice(0, 7);
  const monthly = [
    { kind: 'user_monthly', id: accountId.limit('user_monthly', user.id, month), capMicros: user.monthlyLimitMicros },
    { kind: 'org_monthly', id: accountId.limit('org_monthly', org.id, month), capMicros: org.monthlyLimitMicros },
  ].filter((l) => l.capMicros !== null);
  const usage = await tg.limitBook.usage(monthly.map((l) => l.id));
  return {
    grantId: view.id, status: view.status, remaining: formatMicros(view.remainingMicros), spent: formatMicros(view.spentMicros),
    held: formatMicros(view.heldMicros), totalCap: formatMicros(view.totalCapMicros),
    perCallCap: view.perCallCapMicros === null ? null : formatMicros(view.perCallCapMicros),
    ratePerMinute: view.ratePerMinute, services: view.services, tools: view.tools, expiresAt: view.expiresAt?.toISOString() ?? null,
    ...(task ? { task: { id: task, spent: formatMicros(BigInt(spent?.micros ?? 0)) } } : {}),
    wallet: { available: formatMicros(wallet.availableMicros), currency: wallet.currency },
    monthlyLimits: monthly.map((l) => {
      const u = usage.get(l.id);
      return { kind: l.kind, cap: formatMicros(l.capMicros!), remaining: formatMicros(u ? u.remainingMicros : l.capMicros!) };
    }),
    note: 'A refusal names the limit that blocked (budget_exceeded: limit, used, remaining). Project, service and agent limits also apply where set.',
  };
}

function setup(session: GatewaySession): Record<string, unknown> {
  const how = 'Ask the person who runs Tollgate for a grant token (`tollgate grant create` or POST /v1/grants), then set it as TOLLGATE_TOKEN (stdio) or as the bearer token of the /mcp connection.';
  if (!session.grant) return { configured: session.token !== '', valid: false, how };
  return { configured: true, valid: session.grant.revokedAt === null, grantId: session.grant.id, tokenHint: session.grant.tokenHint, services: session.grant.services, how };
}

function requireGrant(session: GatewaySession): NonNullable<GatewaySession['grant']> {
  if (!session.grant) throw new TollgateError('token_invalid', 'No valid Tollgate token is configured; call setup for how to get one', {});
  return session.grant;
}

async function callService(deps: GatewayDeps, session: GatewaySession, args: Record<string, unknown>): Promise<CallToolResult> {
  const str = (k: string) => (typeof args[k] === 'string' ? (args[k] as string) : undefined);
  const service = str('service') ?? '';
  const path = str('path') ?? '/';
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(service)) throw new TollgateError('invalid_request', 'service: a service slug', { field: 'service' });
  if (!path.startsWith('/') || path.includes('..')) throw new TollgateError('invalid_request', 'path: must start with / and not contain ..', { field: 'path' });
  const body = str('body');
  if (body && body.length > CALL_SERVICE_BODY_CHARS_MAX) throw new TollgateError('payload_too_large', `body: at most ${CALL_SERVICE_BODY_CHARS_MAX} characters`, { field: 'body' });
  const headers = new Headers({ authorization: `Bearer ${session.token}` });
  if (body) headers.set('content-type', 'application/json');
  for (const [arg, header] of [['idempotencyKey', 'idempotency-key'], ['task', 'x-tollgate-task'], ['reason', 'x-tollgate-reason'], ['approvalId', 'x-tollgate-approval']] as const) {
    const value = str(arg);
    if (value) headers.set(header, value);
  }
  const method = str('method')?.toUpperCase() ?? 'GET';
  const response = await deps.proxyFetch(new Request(`http://tollgate.internal/proxy/${service}${path}`, { method, headers, ...(body && method !== 'GET' ? { body } : {}) }));
  const text = (await response.text()).slice(0, CALL_SERVICE_BODY_CHARS_MAX);
  if ((response.headers.get('content-type') ?? '').includes('problem+json')) {
    const problem = JSON.parse(text) as Record<string, unknown>;
    return { isError: true, content: [{ type: 'text', text }], structuredContent: problem, _meta: { 'io.tollgate/problem': problem, 'io.tollgate/charge': '0.00' } };
  }
  return {
    ...(response.status >= 400 ? { isError: true } : {}),
    content: [{ type: 'text', text }],
    structuredContent: { status: response.status, body: text },
    _meta: {
      'io.tollgate/callId': response.headers.get('x-tollgate-call-id'),
      'io.tollgate/charge': response.headers.get('x-tollgate-charge'),
      'io.tollgate/remaining': response.headers.get('x-tollgate-remaining'),
    },
  };
}
