/**
 * @module mcp/paid-call
 * One paid `tools/call` to an upstream MCP service: price the tool → authorize (one hold; an
 * approval asked in the conversation when the client can elicit) → forward with progress and
 * cancellation → settle (capture on success; `isError` voids unless the service charges failures;
 * timeouts, failures and cancellations void) → usage event. Idempotent by `io.tollgate/idempotencyKey`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { CallToolResultSchema, ErrorCode, McpError, type CallToolRequest, type CallToolResult, type ServerNotification, type ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { TollgateError, quote, usageChargeMicros, type CallRequest, type CallStatus, type Quote, type ResolvedService } from '@tollgate/core';
import type { UsageStatus } from '../usage/index.ts';
import { authorizeInConversation } from './approvals.ts';
import type { GatewayDeps, GatewaySession } from './deps.ts';
import { META, problemResult, withCharge } from './results.ts';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Separates the service slug from the upstream tool name in a gateway tool name. */
export const TOOL_SEPARATOR = '__';
/** Results up to this size are stored and returned again on a replay. */
const REPLAY_RESULT_BYTES_MAX = 64 * 1024;
const META_STRING_MAX = 1_000;

export function splitToolName(name: string): { slug: string; tool: string } | undefined {
  const at = name.indexOf(TOOL_SEPARATOR);
  if (at <= 0) return undefined;
  return { slug: name.slice(0, at), tool: name.slice(at + TOOL_SEPARATOR.length) };
}

/** Price rules of an MCP service match the tool as the path `/<tool>` (method `*` or `POST`). */
export function quoteTool(service: ResolvedService['service'], tool: string): Quote | undefined {
  return quote(service, 'POST', `/${tool}`);
}

function metaString(meta: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = meta?.[key];
  return typeof value === 'string' && value.length > 0 && value.length <= META_STRING_MAX ? value : undefined;
}

export async function paidToolCall(deps: GatewayDeps, session: GatewaySession, server: Server, params: CallToolRequest['params'], extra: Extra): Promise<CallToolResult> {
  const startedMs = performance.now();
  const names = splitToolName(params.name);
  const usage = { service: names?.slug ?? '', tool: names?.tool ?? params.name };
  try {
    if (!names) throw new TollgateError('not_found', `no tool ${params.name.slice(0, 200)}`, { tool: params.name.slice(0, 200) });
    const resolved = await deps.services.resolve(names.slug);
    if (resolved.service.kind !== 'mcp') throw new TollgateError('not_found', `${names.slug} is not an MCP service (use call_service)`, { service: names.slug });
    const priced = quoteTool(resolved.service, names.tool);
    if (!priced) throw new TollgateError('not_found', `${names.slug} has no price for the tool ${names.tool}, so it cannot be called`, { service: names.slug, tool: names.tool });
    const meta = params._meta as Record<string, unknown> | undefined;
    const key = metaString(meta, META.idempotencyKey) ?? randomUUID();
    const request: CallRequest = {
      token: session.token,
      idempotencyKey: key,
      fingerprint: createHash('sha256').update(JSON.stringify([params.name, params.arguments ?? {}])).digest('hex'),
      service: resolved.ref,
      tool: names.tool,
      priceMicros: priced.holdMicros,
      pricing: priced.pricing,
      edge: 'mcp',
      ...optional('taskId', metaString(meta, META.task)),
      ...optional('agentId', metaString(meta, META.agent)),
      ...optional('reason', metaString(meta, META.reason)),
      ...optional('approvalId', metaString(meta, META.approvalId)),
    };
    if (deps.quotas && session.grant) await deps.quotas.check(session.grant.userId);
    const authorization = await authorizeInConversation(deps, session, server, request, extra);
    if (authorization.type === 'in_flight') {
      throw new TollgateError('call_in_flight', 'The first call with this idempotency key is still running; retry later', { callId: authorization.callId, retryAfterSeconds: authorization.retryAfterSeconds });
    }
    if (authorization.type === 'replayed') {
      const problem = authorization.result.problem as Record<string, unknown> | undefined;
      const stored = (authorization.result.toolResult as CallToolResult | undefined)
        ?? (problem ? { isError: true, content: [{ type: 'text', text: JSON.stringify(problem) }], structuredContent: problem }
          : { content: [{ type: 'text', text: 'This call already ran; its result was too large to keep.' }] });
      return withCharge(stored, { callId: authorization.callId, chargedMicros: authorization.chargedMicros, remainingMicros: authorization.remainingMicros, replayed: true });
    }
    return await forward(deps, session, { resolved, priced, tool: names.tool, callId: authorization.callId, free: authorization.free, holdMicros: authorization.holdMicros, startedMs }, params, extra);
  } catch (error) {
    if (!(error instanceof TollgateError)) deps.logger?.error({ err: error instanceof Error ? { message: error.message, stack: error.stack } : String(error), tool: params.name }, 'mcp tools/call failed');
    const mapped = error instanceof TollgateError ? error : new TollgateError('internal', 'An internal error occurred; it has been logged');
    await record(deps, session, { ...usage, status: 'refused', code: mapped.code, startedMs, chargeMicros: 0n });
    return problemResult(mapped);
  }
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

interface Forward {
  resolved: ResolvedService;
  priced: Quote;
  tool: string;
  callId: string;
  free: boolean;
  holdMicros: bigint;
  startedMs: number;
}

async function forward(deps: GatewayDeps, session: GatewaySession, call: Forward, params: CallToolRequest['params'], extra: Extra): Promise<CallToolResult> {
  const { service } = call.resolved;
  const progressToken = params._meta?.progressToken;
  let result: CallToolResult;
  try {
    const client = await deps.pool.client(call.resolved);
    // request() rather than callTool(): a gateway passes results through without validating them
    // against the upstream's outputSchema. Our own progress token goes upstream; the client's comes back.
    result = await client.request({ method: 'tools/call', params: { name: call.tool, ...(params.arguments ? { arguments: params.arguments } : {}) } }, CallToolResultSchema, {
      signal: extra.signal,
      timeout: service.timeoutMs,
      ...(progressToken === undefined ? {} : {
        resetTimeoutOnProgress: true,
        maxTotalTimeout: Math.max(service.timeoutMs, 300_000),
        onprogress: (p) => void extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } }).catch(() => {}),
      }),
    }) as CallToolResult;
  } catch (error) {
    return failed(deps, session, call, error, extra);
  }
  const status: CallStatus = result.isError ? 'tool_error' : 'ok';
  const charges = status === 'ok' || service.chargeFailedCalls;
  const units = call.priced.pricing === 'usage' ? unitsOf(result, call.priced) : undefined;
  const actualMicros = call.priced.pricing === 'usage' ? (charges ? usageChargeMicros(call.priced, units) : 0n) : undefined;
  const stored = JSON.stringify(result).length <= REPLAY_RESULT_BYTES_MAX ? { toolResult: result } : {};
  const settlement = await deps.tg.guard.settle({
    callId: call.callId,
    status,
    chargeFailures: service.chargeFailedCalls,
    ...(actualMicros !== undefined ? { actualMicros } : {}),
    ...(units !== undefined ? { units } : {}),
    summary: `tools/call ${call.tool} → ${status}`,
    latencyMs: Math.round(performance.now() - call.startedMs),
    result: stored,
  });
  await record(deps, session, { service: service.slug, tool: call.tool, status, callId: call.callId, startedMs: call.startedMs, chargeMicros: settlement.chargedMicros, ...(units !== undefined ? { units } : {}) });
  return withCharge(result, settlement);
}

async function failed(deps: GatewayDeps, session: GatewaySession, call: Forward, error: unknown, extra: Extra): Promise<CallToolResult> {
  const status: CallStatus = extra.signal.aborted ? 'cancelled'
    : error instanceof McpError && error.code === ErrorCode.RequestTimeout ? 'upstream_timeout' : 'upstream_failed';
  if (status === 'upstream_failed') deps.pool.drop(call.resolved.service.slug);
  const upstreamMessage = error instanceof McpError ? error.message.slice(0, 300) : undefined;
  const problem = status === 'cancelled'
    ? new TollgateError('upstream_failed', 'The call was cancelled; nothing was charged', { callId: call.callId, cancelled: true })
    : new TollgateError('upstream_failed', `The upstream ${status === 'upstream_timeout' ? 'did not answer in time' : 'failed'}; nothing was charged`, { callId: call.callId, ...(upstreamMessage ? { upstreamMessage } : {}) });
  await deps.tg.guard.settle({ callId: call.callId, status, summary: `tools/call ${call.tool} → ${status}`, latencyMs: Math.round(performance.now() - call.startedMs), result: { problem: problem.toProblem() } });
  await record(deps, session, { service: call.resolved.service.slug, tool: call.tool, status, callId: call.callId, startedMs: call.startedMs, chargeMicros: 0n });
  return problemResult(problem);
}

/** Units a usage-priced tool reports: a dotted path into `structuredContent` (e.g. `units`). */
function unitsOf(result: CallToolResult, priced: Quote): bigint | undefined {
  if (priced.units?.from !== 'json') return undefined;
  let value: unknown = result.structuredContent;
  for (const part of priced.units.path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
}

/** One usage event for a gateway call; the sink writes it off the call path. */
export async function record(deps: GatewayDeps, session: GatewaySession | undefined, e: { service: string; tool: string; status: UsageStatus; code?: string; callId?: string; startedMs: number; chargeMicros: bigint; units?: bigint }): Promise<void> {
  const latencyMs = performance.now() - e.startedMs;
  if (deps.metrics) {
    // A refusal for a name that is not a service of ours has no slug: count it under one label.
    const service = e.service || 'unknown';
    deps.metrics.mcpToolCalls.inc({ service, outcome: e.status });
    deps.metrics.mcpToolDuration.observe({ service }, latencyMs / 1000);
    if (e.chargeMicros > 0n) deps.metrics.chargedMicros.inc({ service }, Number(e.chargeMicros));
  }
  await deps.usage.write({
    at: new Date(),
    edge: 'mcp',
    principalId: session?.grant?.userId ?? null,
    grantId: session?.grant?.id ?? null,
    service: e.service,
    tool: e.tool,
    status: e.status,
    ...(e.code ? { code: e.code } : {}),
    ...(e.callId ? { callId: e.callId } : {}),
    latencyMs,
    ...(e.units !== undefined ? { units: e.units } : {}),
    chargeMicros: e.chargeMicros,
  });
}
