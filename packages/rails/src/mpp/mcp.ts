/**
 * @module mpp/mcp
 * MPP over MCP (draft-payment-transport-mcp-00): the credential arrives in
 * `params._meta["org.paymentauth/credential"]` (native JSON), the receipt leaves in
 * `result._meta["org.paymentauth/receipt"]`, and support is advertised as
 * `capabilities.experimental.payment`.
 *
 * "Payment required" is translated. The spec signals it with the JSON-RPC error `-32042`, but MCP
 * (2025-11-25) already uses `-32042` for "URL elicitation required": a generic MCP client would
 * try to open a URL, and the MCP SDK turns the error into an exception that hides the challenges.
 * So a tool call that needs payment returns a tool *result* instead: `isError: true`, a readable
 * text, the challenges and problem in `structuredContent`, and the same object under
 * `_meta["org.paymentauth/payment-required"]` — the key mppx's MCP client reads, so MPP clients
 * still pay automatically while other clients see an ordinary tool error.
 */
import { Mcp, type Challenge } from 'mppx';
import { credentialFromMeta } from './credentials.ts';
import type { MppIntent, MppOffer, MppOutcome } from './outcome.ts';
import type { MppSeller } from './seller.ts';

export const MPP_META = {
  credential: Mcp.credentialMetaKey,
  receipt: Mcp.receiptMetaKey,
  paymentRequired: Mcp.paymentRequiredMetaKey,
} as const;

/** The JSON-RPC codes the spec defines, for reference; Tollgate answers with tool results instead. */
export const MPP_JSONRPC_CODES = { paymentRequired: Mcp.paymentRequiredCode, verificationFailed: Mcp.paymentVerificationFailedCode } as const;

/** The subset of an MCP `CallToolResult` this module reads and writes (no MCP SDK dependency). */
export interface ToolResult {
  content: unknown[];
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
  [key: string]: unknown;
}

/** `capabilities.experimental` entry advertising MPP (for InitializeResult). */
export function mppCapability(intents: readonly MppIntent[]): { payment: { methods: { evm: { intents: MppIntent[] } } } } {
  return { payment: { methods: { evm: { intents: [...intents] } } } };
}

/** Whether a tool call carries an MPP credential. */
export function carriesMppCredential(meta: Record<string, unknown> | undefined): boolean {
  return meta?.[MPP_META.credential] !== undefined;
}

/** Runs `deliver` once the call has paid for `offer`; a result without `isError` is charged. */
export async function payOverMcp(seller: MppSeller, meta: Record<string, unknown> | undefined, offer: MppOffer, deliver: () => Promise<ToolResult>): Promise<ToolResult> {
  const raw = meta?.[MPP_META.credential];
  const outcome = await seller.pay(
    () => (raw === undefined ? undefined : credentialFromMeta(raw)),
    offer,
    async () => {
      const result = await deliver();
      return { value: result, chargeable: result.isError !== true };
    },
  );
  return mcpResult(outcome);
}

export function mcpResult(outcome: MppOutcome<ToolResult>): ToolResult {
  switch (outcome.type) {
    case 'challenge': {
      const problem = outcome.problem.toProblem(outcome.challenges[0]?.id);
      const required = { httpStatus: 402, challenges: outcome.challenges.map(wireChallenge), problem };
      const text = `${problem.title}: ${problem.detail}. Pay with MPP (${outcome.challenges.map((c) => `${c.method}/${c.intent}`).join(', ')}) and call again with _meta["${MPP_META.credential}"].`;
      return { isError: true, content: [{ type: 'text', text }], structuredContent: required, _meta: { [MPP_META.paymentRequired]: required } };
    }
    case 'refused': {
      const problem = outcome.problem.toProblem();
      return { isError: true, content: [{ type: 'text', text: JSON.stringify(problem) }], structuredContent: { problem } };
    }
    case 'not_charged':
      return outcome.value;
    case 'paid':
      return { ...outcome.value, _meta: { ...(outcome.value._meta ?? {}), [MPP_META.receipt]: outcome.receipt } };
    case 'replayed': {
      // Not reached: MCP calls carry no Idempotency-Key to the rail; kept total for the type.
      const text = Buffer.from(outcome.answer.body, 'base64').toString('utf8');
      return { content: [{ type: 'text', text }], _meta: { [MPP_META.receipt]: outcome.answer.receipt } };
    }
    case 'closed': {
      const { receipt } = outcome;
      const summary = { closed: true, channelId: receipt.channelId, txHash: receipt.txHash, spent: receipt.spent };
      return { content: [{ type: 'text', text: JSON.stringify(summary) }], structuredContent: summary, _meta: { [MPP_META.receipt]: receipt } };
    }
  }
}

/** A challenge as MCP carries it: `request` as native JSON, `opaque` as issued, no parsed copies. */
function wireChallenge(challenge: Challenge.Challenge): Record<string, unknown> {
  const { meta: _meta, ...wire } = challenge;
  return wire;
}
