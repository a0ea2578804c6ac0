/**
 * @module mpp/problems
 * The refusals of the Payment auth scheme as RFC 9457 problem details under
 * `https://paymentauth.org/problems/` (core spec §"Error Codes", evm session spec §"Error
 * Responses"). An `MppProblem` is thrown inside the rail and rendered by the HTTP and MCP adapters,
 * which add a fresh challenge where the spec asks for one.
 */

/** Base URI of every problem type of the Payment scheme. */
export const MPP_PROBLEM_BASE = 'https://paymentauth.org/problems/';

const KINDS = {
  'payment-required': { status: 402, title: 'Payment Required' },
  'payment-insufficient': { status: 402, title: 'Payment Insufficient' },
  'payment-expired': { status: 402, title: 'Payment Expired' },
  'verification-failed': { status: 402, title: 'Verification Failed' },
  'method-unsupported': { status: 400, title: 'Method Unsupported' },
  'malformed-credential': { status: 402, title: 'Malformed Credential' },
  'invalid-challenge': { status: 402, title: 'Invalid Challenge' },
  'session/invalid-signature': { status: 402, title: 'Invalid Signature' },
  'session/signer-mismatch': { status: 402, title: 'Signer Mismatch' },
  'session/amount-exceeds-deposit': { status: 402, title: 'Amount Exceeds Deposit' },
  'session/delta-too-small': { status: 402, title: 'Delta Too Small' },
  'session/channel-not-found': { status: 410, title: 'Channel Not Found' },
  'session/channel-finalized': { status: 410, title: 'Channel Finalized' },
  'session/insufficient-balance': { status: 402, title: 'Insufficient Balance' },
  'session/transaction-reverted': { status: 409, title: 'Transaction Reverted' },
  // Not in the spec's vocabulary: a settlement that was broadcast but not mined in time. The payer
  // may have paid, so this is neither a 402 (pay again) nor a failure; the answer names the tx.
  'settlement-unknown': { status: 502, title: 'Settlement Outcome Unknown', type: 'https://tollgate.dev/problems/mpp-settlement-unknown' },
} as const satisfies Record<string, { status: number; title: string; type?: string }>;

export type MppProblemKind = keyof typeof KINDS;

/** The problem body: RFC 9457 plus the challenge it answers and Tollgate's stable `code`. */
export interface MppProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** `mpp_` + the kind with `_` for `-` and `/` (e.g. `mpp_verification_failed`). */
  code: string;
  challengeId?: string;
  [extension: string]: unknown;
}

export class MppProblem extends Error {
  readonly kind: MppProblemKind;
  readonly status: number;
  /** Facts a client can act on (`reason`, `channelId`, `required`, …); never a credential. */
  readonly data: Readonly<Record<string, unknown>>;

  constructor(kind: MppProblemKind, detail: string, data: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'MppProblem';
    this.kind = kind;
    this.status = KINDS[kind].status;
    this.data = data;
  }

  /** Whether the spec wants a fresh challenge with this problem (every 402 carries one). */
  get wantsChallenge(): boolean {
    return this.status === 402;
  }

  toProblem(challengeId?: string): MppProblemDetails {
    return {
      ...this.data,
      type: typeOf(this.kind),
      title: KINDS[this.kind].title,
      status: this.status,
      detail: this.message,
      code: `mpp_${this.kind.replace(/[-/]/g, '_')}`,
      ...(challengeId ? { challengeId } : {}),
    };
  }
}

function typeOf(kind: MppProblemKind): string {
  const entry = KINDS[kind];
  return 'type' in entry ? entry.type : `${MPP_PROBLEM_BASE}${kind}`;
}
