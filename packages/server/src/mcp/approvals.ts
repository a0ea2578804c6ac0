/**
 * @module mcp/approvals
 * Approvals inside the conversation. When `authorize` refuses with `approval_required` and the
 * client can elicit, the person is asked in-band (amount, service, tool, the agent's reason):
 * approve once, approve for this task, or deny. The answer is recorded with `approvals.decide`
 * like any other decision; on approval the call is authorized again with the approval id. A client
 * that cannot elicit gets the `approval_required` tool error and continues with `approval_status`.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { TollgateError, formatMicros, type Authorization, type CallRequest } from '@tollgate/core';
import { SESSION_TASK_APPROVALS_MAX, type GatewayDeps, type GatewaySession } from './deps.ts';
import type { Extra } from './paid-call.ts';

/** How long the person has to answer an elicited approval. */
export const ELICIT_TIMEOUT_MS_DEFAULT = 10 * 60_000;

const CHOICES = ['approve_once', 'approve_task', 'deny'] as const;

export async function authorizeInConversation(deps: GatewayDeps, session: GatewaySession, server: Server, asked: CallRequest, extra: Extra): Promise<Authorization> {
  // A task approved earlier in this session covers the task's later calls (the guard checks it does).
  const remembered = asked.taskId && !asked.approvalId ? session.taskApprovals?.get(asked.taskId) : undefined;
  const request = remembered ? { ...asked, approvalId: remembered } : asked;
  try {
    return await deps.tg.guard.authorize(request);
  } catch (error) {
    if (!(error instanceof TollgateError) || error.code !== 'approval_required') throw error;
    if (deps.elicitApprovals === false || !server.getClientCapabilities()?.elicitation) throw error;
    const approvalId = String(error.data.approvalId);
    const decision = await ask(deps, server, request, approvalId, extra);
    if (decision === undefined) throw error;
    if (decision === 'deny') {
      await deps.tg.approvals.decide(approvalId, { decision: 'deny', decidedBy: 'mcp:elicitation', note: 'denied in the MCP client' });
      throw new TollgateError('approval_denied', 'The person declined this call in the MCP client', { approvalId });
    }
    await deps.tg.approvals.decide(approvalId, {
      decision: 'approve',
      decidedBy: 'mcp:elicitation',
      note: 'approved in the MCP client',
      ...(decision === 'approve_task' ? { scope: 'task' as const } : {}),
    });
    if (decision === 'approve_task' && request.taskId) {
      session.taskApprovals ??= new Map();
      if (session.taskApprovals.size >= SESSION_TASK_APPROVALS_MAX) session.taskApprovals.clear();
      session.taskApprovals.set(request.taskId, approvalId);
    }
    return deps.tg.guard.authorize({ ...request, approvalId });
  }
}

/** Asks the person; undefined when they dismissed the question (the approval stays pending). */
async function ask(deps: GatewayDeps, server: Server, request: CallRequest, approvalId: string, extra: Extra): Promise<(typeof CHOICES)[number] | undefined> {
  const approval = await deps.tg.approvals.get(approvalId);
  const lines = [
    `Approve a paid call? ${formatMicros(request.priceMicros)} for ${request.service.slug} / ${request.tool}.`,
    `Why it asks: ${approval.explanation ?? approval.trigger ?? 'policy'}.`,
    request.reason ? `The agent says: "${request.reason}".` : 'The agent gave no reason.',
  ];
  // "For this task" only means something for a one-call approval of a call that names its task.
  const forTask = request.taskId !== undefined && approval.scope === 'call';
  const choices = forTask ? [...CHOICES] : ['approve_once', 'deny'];
  const titles = forTask ? ['Approve once', 'Approve for this task', 'Deny'] : ['Approve', 'Deny'];
  let answer;
  try {
    answer = await server.elicitInput({
      message: lines.join('\n'),
      requestedSchema: {
        type: 'object',
        properties: {
          decision: { type: 'string', title: 'Decision', enum: choices, enumNames: titles },
        },
        required: ['decision'],
      },
    }, { signal: extra.signal, timeout: deps.elicitTimeoutMs ?? ELICIT_TIMEOUT_MS_DEFAULT });
  } catch {
    return undefined;
  }
  if (answer.action === 'decline') return 'deny';
  if (answer.action !== 'accept') return undefined;
  const choice = answer.content?.decision;
  return CHOICES.find((c) => c === choice && choices.includes(c)) ?? 'deny';
}
