/**
 * @module tollgate-fetch
 * `createTollgateFetch()`: a `fetch` for agents that pay through Tollgate. It adds the grant token
 * and task/agent/reason headers, keeps one Idempotency-Key across its own retries (so a retry can
 * never pay twice), turns refusals into `TollgateClientError`, and can wait for a person to approve
 * a call and then retry it with the approval.
 *
 * Retries: a network error or `call_in_flight` is retried with the same key (the first attempt may
 * have gone through; the server replays it). `upstream_failed`, `upstream_timeout` and
 * `rate_limited` are final for their key but charged nothing, so they are retried with a new key.
 */

import { readProblem, TollgateClientError } from './errors.ts';

export interface WaitForApprovalOptions {
  /** How long to wait for a person in total. */
  timeoutMs: number;
  /** Called once when the call is parked, e.g. to tell the user where to decide. */
  onApprovalRequired?: (info: { approvalId: string; decideUrl?: string; detail: string }) => void;
}

export interface TollgateFetchOptions {
  /** The grant token (`tg_live_…` / `tg_test_…`). */
  token: string;
  /** The gateway, e.g. `http://localhost:8787`. Relative inputs such as `/proxy/search/search` resolve against it. */
  baseUrl: string;
  task?: string;
  agent?: string;
  /** Wait for approvals instead of throwing `approval_required`. */
  waitForApproval?: WaitForApprovalOptions;
  /** Retries after the first attempt (default 2). */
  retries?: number;
  /** Per-attempt timeout (default 120 s). */
  timeoutMs?: number;
  /** Base delay between retries, doubled each time (default 250 ms). */
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

export interface TollgateRequestInit extends RequestInit {
  /** Use this key instead of a generated one (e.g. one you stored to retry after a crash). */
  idempotencyKey?: string;
  reason?: string;
  task?: string;
  agent?: string;
}

export type TollgateFetch = (input: string | URL, init?: TollgateRequestInit) => Promise<Response>;

/** What Tollgate said about a call, from its answer headers. */
export interface CallInfo {
  callId: string | undefined;
  /** Decimal string, e.g. "0.01". */
  charge: string | undefined;
  remaining: string | undefined;
  replayed: boolean;
}

export function callInfo(response: Response): CallInfo {
  return {
    callId: response.headers.get('x-tollgate-call-id') ?? undefined,
    charge: response.headers.get('x-tollgate-charge') ?? undefined,
    remaining: response.headers.get('x-tollgate-remaining') ?? undefined,
    replayed: response.headers.get('x-tollgate-replayed') === 'true',
  };
}

/** Longest single long-poll; the server caps it at 60 s. */
const WAIT_POLL_MS_MAX = 25_000;
const NEW_KEY_CODES = new Set(['upstream_failed', 'upstream_timeout', 'rate_limited']);

export function createTollgateFetch(options: TollgateFetchOptions): TollgateFetch {
  const { token, baseUrl, retries = 2, timeoutMs = 120_000, retryDelayMs = 250 } = options;
  if (!token) throw new Error('createTollgateFetch: token is required');
  if (!baseUrl) throw new Error('createTollgateFetch: baseUrl is required');
  const fetchImpl = options.fetch ?? fetch;

  return async function tollgateFetch(input, init = {}) {
    const url = new URL(input, baseUrl);
    const { idempotencyKey, reason, task, agent, ...rest } = init;
    let key = idempotencyKey ?? new Headers(init.headers).get('idempotency-key') ?? crypto.randomUUID();
    // A stream body can be sent once; retries need a body we can send again.
    const replayable = rest.body === undefined || rest.body === null || typeof rest.body === 'string' || rest.body instanceof ArrayBuffer || ArrayBuffer.isView(rest.body) || rest.body instanceof URLSearchParams || rest.body instanceof Blob;
    let approvalId: string | undefined;
    let waitedForApproval = false;
    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(rest.headers);
      headers.set('authorization', `Bearer ${token}`);
      headers.set('idempotency-key', key);
      const taskId = task ?? options.task;
      const agentId = agent ?? options.agent;
      if (taskId) headers.set('x-tollgate-task', taskId);
      if (agentId) headers.set('x-tollgate-agent', agentId);
      if (reason) headers.set('x-tollgate-reason', reason);
      if (approvalId) headers.set('x-tollgate-approval', approvalId);
      const signal = rest.signal ? AbortSignal.any([rest.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      const canRetry = attempt < retries && replayable;
      let response: Response;
      try {
        response = await fetchImpl(url, { ...rest, headers, signal });
      } catch (error) {
        if (rest.signal?.aborted || !canRetry) throw error;
        await sleep(retryDelayMs * 2 ** attempt);
        continue;
      }
      const problem = await readProblem(response);
      if (!problem) return response;
      const error = new TollgateClientError(problem, response.headers.get('x-tollgate-call-id') ?? undefined);
      if (error.code === 'call_in_flight' && canRetry) {
        await sleep(Math.max(retryDelayMs, (error.retryAfterSeconds ?? 1) * 1000));
        continue;
      }
      if (NEW_KEY_CODES.has(error.code) && canRetry) {
        key = crypto.randomUUID();
        await sleep(Math.max(retryDelayMs * 2 ** attempt, (error.retryAfterSeconds ?? 0) * 1000));
        continue;
      }
      if (error.code === 'approval_required' && options.waitForApproval && !waitedForApproval && typeof error.data.approvalId === 'string' && replayable) {
        waitedForApproval = true;
        approvalId = error.data.approvalId;
        options.waitForApproval.onApprovalRequired?.({ approvalId, detail: error.message, ...(typeof error.data.decideUrl === 'string' ? { decideUrl: error.data.decideUrl } : {}) });
        const state = await waitForDecision(fetchImpl, url, token, approvalId, options.waitForApproval.timeoutMs, rest.signal ?? undefined);
        if (state === 'approved') {
          attempt--;
          continue;
        }
        if (state === 'denied') throw new TollgateClientError({ ...problem, code: 'approval_denied', title: 'The approval was denied', detail: `Approval ${approvalId} was denied`, type: 'https://tollgate.dev/problems/approval-denied' });
      }
      throw error;
    }
  };
}

/** Long-polls the approval until it is decided or `timeoutMs` passes; returns its state. */
async function waitForDecision(fetchImpl: typeof fetch, url: URL, token: string, approvalId: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leftMs = deadline - Date.now();
    if (leftMs <= 0) return 'pending';
    const pollMs = Math.min(leftMs, WAIT_POLL_MS_MAX);
    const waitUrl = new URL(`/v1/approvals/${encodeURIComponent(approvalId)}/wait?timeoutMs=${pollMs}`, url);
    const pollSignal = signal ? AbortSignal.any([signal, AbortSignal.timeout(pollMs + 10_000)]) : AbortSignal.timeout(pollMs + 10_000);
    const response = await fetchImpl(waitUrl, { headers: { authorization: `Bearer ${token}` }, signal: pollSignal });
    const problem = await readProblem(response);
    if (problem) throw new TollgateClientError(problem);
    const approval = (await response.json()) as { state?: string };
    if (approval.state && approval.state !== 'pending') return approval.state;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
