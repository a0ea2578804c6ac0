/**
 * @module rails/mpp-mcp
 * MPP on the MCP gateway: a `tools/call` to a service that takes MPP is paid with
 * `_meta["org.paymentauth/credential"]` instead of a grant (always when the session has no grant,
 * and whenever a credential is sent). Payment required comes back as a tool error carrying the
 * challenges (see `@tollgate/rails/mpp` mcp.ts for why not JSON-RPC `-32042`); a paid result carries
 * `_meta["org.paymentauth/receipt"]`. An upstream error or failure is not charged.
 */
import { CallToolResultSchema, type CallToolRequest, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { TollgateError } from '@tollgate/core';
import { carriesMppCredential, payOverMcp, type ToolResult } from '@tollgate/rails/mpp';
import type { GatewayDeps, GatewaySession } from '../mcp/deps.ts';
import { splitToolName, type Extra } from '../mcp/paid-call.ts';
import { problemResult } from '../mcp/results.ts';
import type { MppEdge } from './mpp.ts';

/** Whether this call carries an MPP credential (it then goes to the MPP rail, grant or not). */
export function carriesMppOverMcp(deps: GatewayDeps, params: CallToolRequest['params']): boolean {
  return deps.mpp !== undefined && carriesMppCredential(params._meta as Record<string, unknown> | undefined);
}

/**
 * Whether this call goes to the MPP rail rather than the grant: it carries an MPP credential, or the
 * session has no grant (then an MPP challenge, or a refusal naming the rails the tool takes). Asked
 * after the x402 rail has claimed its own calls (an x402 payment, an x402 service without a grant).
 */
export function paysWithMppOverMcp(deps: GatewayDeps, session: GatewaySession, params: CallToolRequest['params']): boolean {
  return deps.mpp !== undefined && (!session.grant || carriesMppOverMcp(deps, params));
}

export async function mppToolCall(deps: GatewayDeps, edge: MppEdge, params: CallToolRequest['params'], extra: Extra): Promise<CallToolResult> {
  try {
    const names = splitToolName(params.name);
    if (!names) throw new TollgateError('not_found', `no tool ${params.name.slice(0, 200)}`, { tool: params.name.slice(0, 200) });
    const resolved = await deps.services.resolve(names.slug);
    const { service } = resolved;
    const offer = service.kind === 'mcp' ? edge.offerFor(service, 'POST', `/${names.tool}`, 'mcp') : undefined;
    if (!offer) throw new TollgateError('invalid_request', `${names.slug}__${names.tool} does not take MPP payments (use a grant token)`, { service: names.slug, tool: names.tool });
    const result = await payOverMcp(edge.seller, params._meta as Record<string, unknown> | undefined, offer, async () => {
      try {
        const client = await deps.pool.client(resolved);
        return await client.request({ method: 'tools/call', params: { name: names.tool, ...(params.arguments ? { arguments: params.arguments } : {}) } }, CallToolResultSchema, { signal: extra.signal, timeout: service.timeoutMs }) as ToolResult;
      } catch {
        return problemResult(new TollgateError('upstream_failed', 'The upstream failed or did not answer in time; nothing was charged')) as ToolResult;
      }
    });
    return result as CallToolResult;
  } catch (error) {
    return problemResult(error);
  }
}
