/**
 * @module errors
 * The one error type of Tollgate. Every refusal that leaves the process is a `TollgateError` with a
 * stable `code`; edges turn it into RFC 9457 problem details (HTTP) or a tool error (MCP), so a
 * client sees the same code and data whichever edge it came through.
 */

/** Stable error codes, with the HTTP status each maps to. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_amount: 400,
  unauthorized: 401,
  token_invalid: 401,
  token_expired: 401,
  budget_exceeded: 402,
  insufficient_funds: 402,
  forbidden: 403,
  grant_revoked: 403,
  policy_denied: 403,
  approval_required: 403,
  approval_denied: 403,
  not_found: 404,
  conflict: 409,
  idempotency_conflict: 409,
  call_in_flight: 409,
  payload_too_large: 413,
  locked_out: 429,
  rate_limited: 429,
  quota_exceeded: 429,
  upstream_failed: 502,
  quota_unavailable: 503,
  upstream_timeout: 504,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** Human titles for problem details; the `detail` carries the specific sentence. */
const TITLES: Record<ErrorCode, string> = {
  invalid_request: 'The request is invalid',
  invalid_amount: 'The amount is invalid',
  unauthorized: 'Authentication is required',
  token_invalid: 'The token is invalid',
  token_expired: 'The token has expired',
  budget_exceeded: 'A budget limit would be exceeded',
  insufficient_funds: 'The wallet has insufficient funds',
  forbidden: 'Not allowed for this key',
  grant_revoked: 'The grant has been revoked',
  policy_denied: 'A policy denies this call',
  approval_required: 'A person must approve this call',
  approval_denied: 'The approval was denied',
  not_found: 'Not found',
  conflict: 'Conflict with the current state',
  idempotency_conflict: 'The idempotency key was used for a different request',
  call_in_flight: 'A call with this idempotency key is still in flight',
  payload_too_large: 'The request body is too large',
  locked_out: 'Too many failed attempts',
  rate_limited: 'Too many requests',
  quota_exceeded: 'The usage quota for this window is used up',
  quota_unavailable: 'The quota store is unreachable; the call was not attempted',
  upstream_failed: 'The upstream failed; nothing was charged',
  upstream_timeout: 'The upstream timed out; nothing was charged',
  internal: 'Internal error',
};

/** RFC 9457 problem details, extended with the stable `code` and the error's data. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  [extension: string]: unknown;
}

export class TollgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Machine-readable facts about the refusal (limit, remaining, approval id, field, …). */
  readonly data: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, detail: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = 'TollgateError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.data = data;
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      type: `https://tollgate.dev/problems/${this.code.replaceAll('_', '-')}`,
      title: TITLES[this.code],
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(instance === undefined ? {} : { instance }),
      ...jsonSafe(this.data),
    };
  }
}

/** A request field failed validation: the 400 that names the field. */
export function invalid(field: string, reason: string, data: Record<string, unknown> = {}): TollgateError {
  return new TollgateError('invalid_request', `${field}: ${reason}`, { field, ...data });
}

/** Turns bigints into decimal strings so data can be serialized as JSON. */
export function jsonSafe<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}
