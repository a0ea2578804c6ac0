/**
 * @module rail
 * A rail moves or proves value; the ledger and the guard stay the source of truth for budgets.
 * Every rail has the same four steps, named as the guard names them:
 *
 * - `authorize(request)` → a hold: money reserved (a ledger hold) or a payment proven but not yet
 *   collected (a verified x402 authorization, an MPP credential). Refusals throw `TollgateError`.
 * - `settle(hold, outcome)` → the money moves (a capture, an on-chain transfer). Idempotent by the
 *   hold's id: settling twice moves nothing twice.
 * - `void(hold, reason)` → nothing moves (the call failed); the hold is released or left to expire.
 * - `describe()` → what the rail is, for `/supported`-style discovery, logs and the audit record.
 *
 * An optional `refund` returns settled money where the rail can (the internal balance can; an x402
 * `exact` payment cannot: it would be a new transfer the other way).
 */

/** The rail names recorded in the audit log's `rail` column. */
export type RailId = 'balance' | 'x402' | 'mpp' | 'stripe' | (string & {});

export interface RailDescription {
  rail: RailId;
  /** One line for people: "internal prepaid balance", "x402 exact (EIP-3009) on eip155:8453". */
  summary: string;
  /** The unit the rail's amounts are in: a ledger currency, or `<CAIP-2>/<asset>` on a chain. */
  currency: string;
  /** True when value leaves Tollgate's ledger (a chain, a card network). */
  external: boolean;
}

/** What `authorize` reserved or proved. Rails extend it with what their `settle` needs. */
export interface RailHold {
  rail: RailId;
  /** Unique per hold on this rail (the call id, `<payer>:<nonce>`, a challenge id). */
  id: string;
  amountMicros: bigint;
  /** Who pays: a principal id, or an address on a chain. */
  payer: string;
}

export interface RailSettlement {
  rail: RailId;
  holdId: string;
  outcome: 'settled' | 'voided';
  /** What moved (0 when voided). */
  amountMicros: bigint;
  /** The rail's own reference for what moved: a ledger transfer id, a transaction hash. */
  reference?: string;
  /** True when this settle or void repeated one already applied. */
  replay: boolean;
}

export interface Rail<Request, Hold extends RailHold, Outcome> {
  readonly rail: RailId;
  describe(): RailDescription;
  authorize(request: Request): Promise<Hold>;
  settle(hold: Hold, outcome: Outcome): Promise<RailSettlement>;
  void(hold: Hold, reason: string): Promise<RailSettlement>;
  refund?(settlement: RailSettlement, amountMicros: bigint, reason: string): Promise<RailSettlement>;
}
