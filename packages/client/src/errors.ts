/**
 * @module errors
 * Tollgate's refusals (RFC 9457 problem details with a stable `code`) as one typed error class.
 * Codes are grouped in families so an agent can branch on what to do next without a table.
 */

/** What to do about a refusal. */
export type ErrorFamily = 'auth' | 'budget' | 'policy' | 'approval' | 'idempotency' | 'upstream' | 'rate' | 'request' | 'server';

const FAMILIES: Record<string, ErrorFamily> = {
  token_invalid: 'auth', token_expired: 'auth', unauthorized: 'auth', grant_revoked: 'auth', locked_out: 'rate',
  budget_exceeded: 'budget', insufficient_funds: 'budget',
  policy_denied: 'policy', forbidden: 'policy',
  approval_required: 'approval', approval_denied: 'approval',
  idempotency_conflict: 'idempotency', call_in_flight: 'idempotency', conflict: 'idempotency',
  upstream_failed: 'upstream', upstream_timeout: 'upstream',
  rate_limited: 'rate',
  invalid_request: 'request', invalid_amount: 'request', not_found: 'request', payload_too_large: 'request',
  internal: 'server',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  [extension: string]: unknown;
}

/** A refusal from Tollgate. `data` holds the problem's extra members (limit, remaining, approvalId, …). */
export class TollgateClientError extends Error {
  readonly code: string;
  readonly status: number;
  readonly family: ErrorFamily;
  readonly data: Readonly<Record<string, unknown>>;
  readonly problem: Problem;
  /** The call id, when the refusal belongs to a call. */
  readonly callId: string | undefined;

  constructor(problem: Problem, callId?: string) {
    super(problem.detail || problem.title);
    this.name = 'TollgateClientError';
    this.code = problem.code;
    this.status = problem.status;
    this.family = FAMILIES[problem.code] ?? (problem.status >= 500 ? 'server' : 'request');
    const { type: _t, title: _ti, status: _s, detail: _d, code: _c, instance: _i, ...data } = problem;
    this.data = data;
    this.problem = problem;
    this.callId = callId ?? (typeof data.callId === 'string' ? data.callId : undefined);
  }

  /** Seconds the server asked to wait before retrying, if it said. */
  get retryAfterSeconds(): number | undefined {
    const value = this.data.retryAfterSeconds;
    return typeof value === 'number' ? value : undefined;
  }
}

export const PROBLEM_TYPE_PREFIX = 'https://tollgate.dev/problems/';

/** Reads a Tollgate problem from a response, or undefined when it is not one (e.g. an upstream's own error). */
export async function readProblem(response: Response): Promise<Problem | undefined> {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('application/problem+json')) return undefined;
  const body = (await response.clone().json().catch(() => undefined)) as Problem | undefined;
  if (!body || typeof body.code !== 'string' || typeof body.type !== 'string' || !body.type.startsWith(PROBLEM_TYPE_PREFIX)) return undefined;
  return body;
}
