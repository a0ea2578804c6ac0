/**
 * @module rails/x402-mcp
 * x402 on the MCP gateway (specs/transports-v2/mcp.md): a `tools/call` to a service with an x402
 * setting is paid with `_meta["x402/payment"]` (a v2 PaymentPayload) instead of a grant — always
 * when the session has no grant or the service takes no grants, and whenever a payment is sent.
 * Payment required is a tool result, not a JSON-RPC error: `isError`, `structuredContent` = the
 * PaymentRequired, and the same JSON as text. A paid result carries
 * `_meta["x402/payment-response"]`. A tool error or upstream failure is not settled; a settlement
 * that fails or whose outcome is unknown returns only the payment error, never the tool's content.
 */
import { CallToolResultSchema, type CallToolRequest, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { TollgateError } from '@tollgate/core';
import {
  makeOffer, parsePaymentPayload, paymentRequired, WireError, X402_MCP_META, X402Rejection, X402SettlementError, x402SettingsOf,
  type Offer, type StoredAnswer, type X402Hold,
} from '@tollgate/rails';
import type { GatewayDeps, GatewaySession } from '../mcp/deps.ts';
import { quoteTool, splitToolName, type Extra } from '../mcp/paid-call.ts';
import { problemResult } from '../mcp/results.ts';

/** Whether this call is paid with x402 rather than from the session's grant. */
export async function paysWithX402OverMcp(deps: GatewayDeps, session: GatewaySession, params: CallToolRequest['params']): Promise<boolean> {
  if (!deps.x402) return false;
  if ((params._meta as Record<string, unknown> | undefined)?.[X402_MCP_META.payment] !== undefined) return true;
  const names = splitToolName(params.name);
  if (!names) return false;
  try {
    const settings = x402SettingsOf((await deps.services.resolve(names.slug)).service);
    return settings !== undefined && (!session.grant || !settings.grants);
  } catch {
    // An unknown service or a bad setting: the grant path answers with the right refusal.
    return false;
  }
}

export async function x402ToolCall(deps: GatewayDeps, params: CallToolRequest['params'], extra: Extra): Promise<CallToolResult> {
  const seller = deps.x402!.seller;
  try {
    const names = splitToolName(params.name);
    if (!names) throw new TollgateError('not_found', `no tool ${params.name.slice(0, 200)}`, { tool: params.name.slice(0, 200) });
    const resolved = await deps.services.resolve(names.slug);
    const { service } = resolved;
    const settings = service.kind === 'mcp' ? x402SettingsOf(service) : undefined;
    const priced = quoteTool(service, names.tool);
    if (!settings || !priced) throw new TollgateError('invalid_request', `${params.name.slice(0, 200)} does not take x402 payments (use a grant token)`, { service: names.slug, tool: names.tool });
    if (priced.pricing !== 'fixed') throw new TollgateError('conflict', `${params.name} is usage-priced; x402 exact needs a fixed price`, { service: names.slug, tool: names.tool });
    const offer = makeOffer(settings, priced.holdMicros, { url: `mcp://tool/${params.name}`, description: service.name, mimeType: 'application/json' });
    const raw = (params._meta as Record<string, unknown> | undefined)?.[X402_MCP_META.payment];
    if (raw === undefined) return paymentRequiredResult(offer, 'Payment required');
    let hold: X402Hold;
    try {
      hold = await seller.authorize({ payment: parsePaymentPayload(raw, `_meta["${X402_MCP_META.payment}"]`), offer, service: { id: service.id, slug: service.slug, sellerId: service.sellerId }, tool: names.tool, edge: 'mcp' });
    } catch (error) {
      if (error instanceof X402Rejection) return paymentRequiredResult(offer, error.reason);
      if (error instanceof WireError) throw new TollgateError('invalid_request', error.message, { field: `_meta.${X402_MCP_META.payment}`, reason: error.reason });
      throw error;
    }
    if (hold.answer) return storedResult(hold.answer);
    let result: CallToolResult;
    try {
      const client = await deps.pool.client(resolved);
      result = await client.request({ method: 'tools/call', params: { name: names.tool, ...(params.arguments ? { arguments: params.arguments } : {}) } }, CallToolResultSchema, { signal: extra.signal, timeout: service.timeoutMs }) as CallToolResult;
    } catch {
      await seller.void(hold, 'the upstream failed');
      throw new TollgateError('upstream_failed', 'The upstream failed or did not answer in time; the payment was not collected', { callId: hold.id });
    }
    if (result.isError) {
      await seller.void(hold, 'the tool answered isError');
      return result;
    }
    const answer: StoredAnswer = { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(result)).toString('base64') };
    try {
      const settled = await seller.settle(hold, { answer });
      return { ...result, _meta: { ...(result._meta ?? {}), [X402_MCP_META.paymentResponse]: settled.response } };
    } catch (error) {
      if (!(error instanceof X402SettlementError)) throw error;
      return paymentRequiredResult(offer, error.outcome === 'unknown' ? 'settlement_pending' : 'Settlement failed');
    }
  } catch (error) {
    return problemResult(error);
  }
}

function paymentRequiredResult(offer: Offer, error: string): CallToolResult {
  const required = paymentRequired(offer, error) as unknown as Record<string, unknown>;
  return { isError: true, structuredContent: required, content: [{ type: 'text', text: JSON.stringify(required) }] };
}

function storedResult(answer: StoredAnswer): CallToolResult {
  const result = JSON.parse(Buffer.from(answer.body ?? '', 'base64').toString('utf8') || '{"content":[]}') as CallToolResult;
  return answer.settlement ? { ...result, _meta: { ...(result._meta ?? {}), [X402_MCP_META.paymentResponse]: answer.settlement } } : result;
}
