/**
 * @module mcp/results
 * How Tollgate speaks on MCP results: refusals as tool errors carrying the same problem JSON as
 * the HTTP edge (so an agent can act on `code`), and the `io.tollgate/` `_meta` keys on results.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { TollgateError, formatMicros } from '@tollgate/core';
import { toTollgateError } from '../middleware/problem/index.ts';

/** The `_meta` prefix of Tollgate's own keys (not a reserved MCP prefix). */
export const META_PREFIX = 'io.tollgate/';
export const META = {
  charge: 'io.tollgate/charge',
  callId: 'io.tollgate/callId',
  remaining: 'io.tollgate/remaining',
  replayed: 'io.tollgate/replayed',
  price: 'io.tollgate/price',
  problem: 'io.tollgate/problem',
  /** Request `_meta` keys an agent may send. */
  idempotencyKey: 'io.tollgate/idempotencyKey',
  task: 'io.tollgate/task',
  agent: 'io.tollgate/agent',
  reason: 'io.tollgate/reason',
  approvalId: 'io.tollgate/approvalId',
} as const;

/** A refusal or failure as an MCP tool error: `isError`, the problem as text and as structuredContent. */
export function problemResult(error: unknown): CallToolResult {
  const mapped = error instanceof TollgateError ? error : toTollgateError(error);
  const problem = mapped.toProblem();
  return {
    isError: true,
    content: [{ type: 'text', text: JSON.stringify(problem) }],
    structuredContent: problem as Record<string, unknown>,
    _meta: { [META.problem]: problem, [META.charge]: '0.00', ...(typeof mapped.data.callId === 'string' ? { [META.callId]: mapped.data.callId } : {}) },
  };
}

/** Adds the charge, call id and remaining budget to a result's `_meta` (keeping the upstream's). */
export function withCharge(result: CallToolResult, charge: { callId: string; chargedMicros: bigint; remainingMicros: bigint; replayed?: boolean }): CallToolResult {
  return {
    ...result,
    _meta: {
      ...(result._meta ?? {}),
      [META.callId]: charge.callId,
      [META.charge]: formatMicros(charge.chargedMicros),
      [META.remaining]: formatMicros(charge.remainingMicros),
      ...(charge.replayed ? { [META.replayed]: true } : {}),
    },
  };
}

/** A plain JSON tool result for Tollgate's own tools. */
export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}
