/**
 * @module guard/types
 * The one API every edge (HTTP proxy, MCP gateway, seller SDK) calls for a paid call:
 * `authorize(request)` → a hold across every limit, and `settle(callId, outcome)` → capture or void.
 * Both are idempotent by call id. Refusals are thrown as `TollgateError` with a stable code, after
 * the refusal has been recorded in the audit log.
 */

/** What the edge knows about the service being called (resolved from the registry by the edge). */
export interface ServiceRef {
  /** Registry id, e.g. `svc_…`. */
  id: string;
  /** URL-safe name used in routes and grants, e.g. `search`. */
  slug: string;
  kind: 'http' | 'mcp';
  /** The seller's id (policy matches on vendor = seller). */
  sellerId: string;
  category: string;
  sensitivity: 'low' | 'medium' | 'high';
  /** First N calls per user per calendar month are free (0 = no free tier). */
  freeCallsPerMonth: number;
}

export interface CallRequest {
  /** The bearer grant token (`tg_live_…` / `tg_test_…`). */
  token: string;
  /** Client's idempotency key; the call id is derived from it and the grant, so a retry finds the same call. */
  idempotencyKey: string;
  /** Hash of what makes the request this request (method, path, body): same key + other fingerprint = idempotency_conflict. */
  fingerprint: string;
  service: ServiceRef;
  /** The MCP tool name, or `METHOD /path` for HTTP. */
  tool: string;
  taskId?: string;
  agentId?: string;
  /** The agent's declared reason, kept in the audit record. */
  reason?: string;
  /** Amount to hold: the fixed price, or the declared maximum of a usage-priced call. */
  priceMicros: bigint;
  pricing: 'fixed' | 'usage';
  /** Set when retrying a call that needed approval. */
  approvalId?: string;
  edge: 'http' | 'mcp' | 'sdk';
}

export interface Authorized {
  type: 'authorized';
  callId: string;
  grantId: string;
  holdMicros: bigint;
  /** True when the call is inside the service's free tier (nothing is held or charged). */
  free: boolean;
  /** What the grant can still spend after this hold. */
  remainingMicros: bigint;
}

/** The call already finished: the edge answers with what was recorded, and charges nothing again. */
export interface Replayed {
  type: 'replayed';
  callId: string;
  outcome: 'captured' | 'voided';
  chargedMicros: bigint;
  remainingMicros: bigint;
  /** What the edge stored about the result (e.g. status, headers, body digest) when it settled. */
  result: Record<string, unknown>;
}

/** The first call with this key is still running: tell the client to retry later. */
export interface InFlight {
  type: 'in_flight';
  callId: string;
  retryAfterSeconds: number;
}

export type Authorization = Authorized | Replayed | InFlight;

export type CallStatus = 'ok' | 'tool_error' | 'upstream_failed' | 'upstream_timeout' | 'cancelled';

export interface SettleInput {
  callId: string;
  /** `ok` (and `tool_error` when the service charges failures) capture; anything else voids. */
  status: CallStatus;
  /** Usage-priced calls: the actual amount (must not exceed the hold). Fixed: omitted = the hold. */
  actualMicros?: bigint;
  /** Units observed (usage events). */
  units?: bigint;
  /** Whether a failed call is charged anyway (the service's setting). */
  chargeFailures?: boolean;
  httpStatus?: number;
  /** One line for the audit record (never the body, never a secret). */
  summary?: string;
  latencyMs?: number;
  /** Stored and returned on replay. */
  result?: Record<string, unknown>;
}

export interface Settlement {
  callId: string;
  outcome: 'captured' | 'voided';
  chargedMicros: bigint;
  remainingMicros: bigint;
  /** True when this settle was a retry of one already applied. */
  replay: boolean;
}

export interface Guard {
  authorize(request: CallRequest): Promise<Authorization>;
  settle(input: SettleInput): Promise<Settlement>;
}
