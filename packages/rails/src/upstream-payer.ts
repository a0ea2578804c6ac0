/**
 * @module upstream-payer
 * The buyer-side seam: when an upstream answers 402, an `UpstreamPayer` of the rail it asks for
 * turns the challenge into payment headers for one retry, paid from a key Tollgate holds (the agent
 * never sees it) and never more than the call's hold — the grant's hold is the budget, so per-call
 * caps and policy have already applied. The edge tries each configured payer in order; the first
 * that recognizes the challenge pays. x402 (`x402/buyer`) is one; an MPP payer (`Payment`
 * challenges, `Payment-Receipt`) implements the same interface next to it.
 */
import type { RailId } from './rail.ts';

/** The upstream's 402, as the payer may read it. */
export interface UpstreamChallenge {
  url: string;
  headers: Headers;
  /** The parsed JSON body, when it was JSON (v1 x402 carries its requirements there). */
  body: unknown;
}

export interface UpstreamPayment {
  rail: RailId;
  /** Added to the retried request. */
  headers: Record<string, string>;
  /** What this payment moves, in micro-units (never above the hold). */
  amountMicros: bigint;
  /** Payee, network, asset, scheme: kept with the call. */
  details: Record<string, string>;
}

/** The provider's receipt from the paid answer. */
export interface UpstreamReceipt {
  /** True when the provider says the payment settled. */
  settled: boolean;
  /** The transaction hash or the provider's reference. */
  reference?: string;
  raw: Record<string, unknown>;
}

export interface UpstreamPayer {
  readonly rail: RailId;
  /**
   * Payment headers for this challenge, or undefined when it is not this rail's. Throws
   * `TollgateError` (`budget_exceeded`) when every option costs more than `holdMicros`.
   */
  pay(challenge: UpstreamChallenge, holdMicros: bigint): Promise<UpstreamPayment | undefined>;
  /** Reads the receipt from the paid answer's headers. */
  receipt(headers: Headers): UpstreamReceipt | undefined;
}
