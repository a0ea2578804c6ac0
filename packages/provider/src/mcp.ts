/**
 * @module mcp
 * Paid tools for a seller's own MCP server (SDK v1 `McpServer`). Wrap a tool's callback with
 * `paid.tool({ price }, callback)`: the caller's API key is checked and the price held at Tollgate,
 * the tool runs, and the hold is captured only when the result is not `isError` (voided otherwise,
 * and when the callback throws). The receipt goes into the result's `_meta["io.tollgate/receipt"]`.
 *
 * The caller's key is read, in order, from `options.apiKey(extra)`, the HTTP `Authorization: Bearer`
 * header of the MCP request, `authInfo.token`, then `TOLLGATE_API_KEY` (stdio servers).
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { ProviderClient, ProviderError, type ProviderClientOptions, type SettleAnswer } from './client.ts';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A fixed price ("0.01"), or a maximum held first and the actual amount computed from the result. */
export type ToolPrice = string | { max: string; actual: (result: CallToolResult) => string };

export interface PaidToolsOptions extends ProviderClientOptions {
  /** The service's slug at Tollgate (it must belong to the seller key's seller id). */
  service: string;
  /** Where the caller's API key comes from, when not the defaults. */
  apiKey?: (extra: Extra) => string | undefined;
  /** Charge `isError` results too (default false). */
  chargeFailures?: boolean;
}

export interface Receipt {
  callId: string;
  charge: string;
  remaining: string;
  outcome: 'captured' | 'voided';
  replayed?: boolean;
}

export interface PaidTools {
  client: ProviderClient;
  /** Wraps a `registerTool` callback (`(args, extra) => result`) so each call is charged. */
  tool<A>(options: { price: ToolPrice; name?: string }, callback: (args: A, extra: Extra) => CallToolResult | Promise<CallToolResult>): (args: A, extra: Extra) => Promise<CallToolResult>;
}

function callerKey(options: PaidToolsOptions, extra: Extra): string | undefined {
  const custom = options.apiKey?.(extra);
  if (custom) return custom;
  const header = extra.requestInfo?.headers?.authorization;
  const bearer = (Array.isArray(header) ? header[0] : header)?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  return bearer ?? extra.authInfo?.token ?? process.env.TOLLGATE_API_KEY;
}

function refusal(code: string, problem: Record<string, unknown>): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: JSON.stringify(problem) }], structuredContent: problem, _meta: { 'io.tollgate/problem': problem } };
}

function withReceipt(result: CallToolResult, receipt: Receipt): CallToolResult {
  return { ...result, _meta: { ...(result._meta ?? {}), 'io.tollgate/receipt': receipt, 'io.tollgate/callId': receipt.callId, 'io.tollgate/charge': receipt.charge, 'io.tollgate/remaining': receipt.remaining } };
}

export function createPaidTools(options: PaidToolsOptions): PaidTools {
  const client = new ProviderClient(options);
  return {
    client,
    tool(toolOptions, callback) {
      const toolName = toolOptions.name ?? 'tool';
      return async function paidTool(args, extra) {
        const apiKey = callerKey(options, extra);
        if (!apiKey) return refusal('token_invalid', { code: 'token_invalid', status: 401, detail: 'This tool is paid: add your Tollgate API key for this server to your MCP client (Authorization: Bearer <key>, or TOLLGATE_API_KEY).' });
        const meta = extra._meta as Record<string, unknown> | undefined;
        const idempotencyKey = typeof meta?.['io.tollgate/idempotencyKey'] === 'string' ? meta['io.tollgate/idempotencyKey'] : randomUUID();
        const price = typeof toolOptions.price === 'string' ? toolOptions.price : toolOptions.price.max;
        const startedMs = performance.now();
        let callId: string;
        try {
          const answer = await client.authorize({
            service: options.service, tool: toolName, apiKey, idempotencyKey, price, pricing: typeof toolOptions.price === 'string' ? 'fixed' : 'usage',
            fingerprint: `${toolName} ${JSON.stringify(args)}`.slice(0, 200),
            ...(typeof meta?.['io.tollgate/reason'] === 'string' ? { reason: meta['io.tollgate/reason'] } : {}),
            ...(typeof meta?.['io.tollgate/approvalId'] === 'string' ? { approvalId: meta['io.tollgate/approvalId'] } : {}),
          });
          if (answer.type === 'in_flight') return refusal('call_in_flight', { code: 'call_in_flight', callId: answer.callId, retryAfterSeconds: answer.retryAfterSeconds, detail: 'The first call with this idempotency key is still running' });
          if (answer.type === 'replayed') {
            return withReceipt({ content: [{ type: 'text', text: 'This call already ran and was settled; it is not charged again.' }] }, { callId: answer.callId, charge: answer.charged, remaining: answer.remaining, outcome: answer.outcome, replayed: true });
          }
          callId = answer.callId;
        } catch (error) {
          if (error instanceof ProviderError) return refusal(error.code, error.problem);
          throw error;
        }
        return run(client, options, { callId, tool: toolName, price: toolOptions.price, startedMs }, () => callback(args, extra));
      };
    },
  };
}

async function run(client: ProviderClient, options: PaidToolsOptions, call: { callId: string; tool: string; price: ToolPrice; startedMs: number }, invoke: () => CallToolResult | Promise<CallToolResult>): Promise<CallToolResult> {
  let result: CallToolResult;
  try {
    result = await invoke();
  } catch (error) {
    await client.settle({ callId: call.callId, tool: call.tool, status: 'upstream_failed', summary: 'the tool threw' }).catch(() => {});
    throw error;
  }
  const ok = !result.isError;
  const actual = ok && typeof call.price !== 'string' ? call.price.actual(result) : undefined;
  const settled: SettleAnswer = await client.settle({
    callId: call.callId, tool: call.tool, status: ok ? 'ok' : 'tool_error', chargeFailures: options.chargeFailures ?? false,
    latencyMs: Math.round(performance.now() - call.startedMs), ...(actual !== undefined ? { actual } : {}),
  });
  return withReceipt(result, { callId: settled.callId, charge: settled.charged, remaining: settled.remaining, outcome: settled.outcome });
}
