/**
 * @module x402/seller/seller
 * The x402 seller rail: a Tollgate-fronted service paid per call with x402 `exact` (EIP-3009).
 *
 * `authorize` → the payment matches the offer and passes every check that needs no chain (pure
 * viem), a `payment-identifier` retry is answered from the store, the in-flight lock on
 * (network, asset, payer, nonce) is taken, and the facilitator verifies. Only then may the edge call
 * the upstream. The signature is recovered by the facilitator's verify, which gates everything a
 * fresh payment does; it is recovered here only before a stored payment is answered without that
 * verdict (a retry, a replay, a conflict): an ECDSA recovery is ~3 ms of CPU on the event loop,
 * a third of what the seller spent per call when it was done twice.
 * `settle` → the facilitator submits the transfer; on success ONE ledger batch credits the
 * seller's earnings (tx hash in the transfer), chains the audit record and marks the payment
 * `settled` with the answer kept for retries, before the answer leaves. When that batch fails the
 * row is marked settled on its own and `recordMissingEarnings()` (run at start-up) credits the
 * rest later — idempotent by the call id, so nothing is credited twice.
 *
 * A refused settlement (`failed`) or one whose outcome is unknown (a timeout, `settlement_pending`)
 * throws `X402SettlementError`: the edge releases no content, and the audit record says which of
 * the two it was (never "insufficient funds"). An unknown one is resolved from its receipt on the
 * payment's retry or by `reconcileUnknown()`; the withheld answer then goes, once, to that payment.
 * `void` → the upstream failed; the authorization is never submitted and may be presented again.
 */
import { createHash } from 'node:crypto';
import { TollgateError, type Tollgate } from '@tollgate/core';
import type { SettleResponse, VerifyResponse } from '@x402/core/types';
import { RailEarnings, type CollectedPayment } from '../../earnings.ts';
import type { Rail, RailDescription, RailHold, RailSettlement } from '../../rail.ts';
import { checkExactEvm, checkExactEvmSignature, type ExactEvmPayload } from '../exact-evm.ts';
import type { AnyPaymentPayload, PaymentPayload, PaymentRequirements } from '../wire.ts';
import { acceptsOffer, PAYMENT_ID, PAYMENT_IDENTIFIER, type Offer } from './offer.ts';
import { X402Payments, type PaymentRow, type SettledPayment, type StoredAnswer } from './payments.ts';

/** What the seller needs from a facilitator: `FacilitatorClient` (../facilitator/client.ts) or `@x402/core`'s `HTTPFacilitatorClient`. */
export interface FacilitatorPort {
  verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse>;
  settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse>;
}

/** Reads a submitted settlement's fate from the chain, to resolve an unknown outcome later. */
export type ReceiptReader = (txHash: string) => Promise<'success' | 'reverted' | 'pending'>;

export interface X402AuthorizeRequest {
  payment: AnyPaymentPayload;
  offer: Offer;
  service: { id: string; slug: string; sellerId: string };
  /** `METHOD /path` or the MCP tool. */
  tool: string;
  edge: 'http' | 'mcp';
}

export interface X402Hold extends RailHold {
  rail: 'x402';
  request: X402AuthorizeRequest;
  exact: ExactEvmPayload;
  paymentId: string | undefined;
  startedMs: number;
  /** Set when this payment was already served: answer with it, run nothing, settle nothing. */
  answer: StoredAnswer | undefined;
}

export interface X402Outcome {
  /** The upstream's answer, stored so a `payment-identifier` retry gets it back. */
  answer: StoredAnswer;
  httpStatus?: number;
}

export interface X402Settlement extends RailSettlement {
  response: SettleResponse;
}

/** A payment refused before anything ran: the edge answers 402 with this x402 error reason. */
export class X402Rejection extends Error {
  constructor(readonly reason: string, message: string, readonly retryAfterSeconds?: number) {
    super(message);
    this.name = 'X402Rejection';
  }
}

/** Settlement refused (`failed`) or not known (`unknown`): no content may be released. */
export class X402SettlementError extends Error {
  constructor(readonly outcome: 'failed' | 'unknown', readonly reason: string, message: string, readonly transaction?: string) {
    super(message);
    this.name = 'X402SettlementError';
  }
}

export interface X402SellerOptions {
  tg: Tollgate;
  /** Told when crediting earnings failed (it is retried by `recordMissingEarnings`). */
  onError?: (error: unknown) => void;
  facilitator: FacilitatorPort;
  /** Resolves unknown outcomes on a retry; without it they stay unknown until reconciled by hand. */
  receipts?: ReceiptReader;
  currency?: string;
  nowSeconds?: () => bigint;
}

export class X402Seller implements Rail<X402AuthorizeRequest, X402Hold, X402Outcome> {
  readonly rail = 'x402' as const;
  readonly payments: X402Payments;
  readonly #tg: Tollgate;
  readonly #facilitator: FacilitatorPort;
  readonly #receipts: ReceiptReader | undefined;
  readonly #earnings: RailEarnings;
  readonly #now: () => bigint;
  readonly #onError: (error: unknown) => void;

  constructor(options: X402SellerOptions) {
    this.#onError = options.onError ?? (() => {});
    this.#facilitator = options.facilitator;
    this.#receipts = options.receipts;
    this.#tg = options.tg;
    this.payments = new X402Payments(options.tg.db);
    this.#earnings = new RailEarnings({ tg: options.tg, currency: options.currency ?? 'USD' });
    this.#now = options.nowSeconds ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  }

  describe(): RailDescription {
    return { rail: this.rail, summary: 'x402 exact (EIP-3009), verified and settled through a facilitator', currency: 'eip155 EIP-3009 tokens', external: true };
  }

  async authorize(request: X402AuthorizeRequest): Promise<X402Hold> {
    const startedMs = performance.now();
    const { payment, offer } = request;
    const { scheme, network } = payment.version === 2 ? payment.payload.accepted : payment.payload;
    if (payment.version === 2 && !acceptsOffer(payment.payload.accepted, offer)) {
      throw new X402Rejection('invalid_payment_requirements', 'payload.accepted is not what this route offers (price, payee, asset or network differ)');
    }
    const checked = await checkExactEvm(scheme, network, payment.payload.payload, offer.requirements, this.#now(), { signature: false });
    if (!checked.ok) throw new X402Rejection(checked.reason, checked.message);
    const { authorization: a, signature } = checked.payload;
    const paymentId = paymentIdOf(payment);
    const digest = createHash('sha256').update([a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, signature, offer.requirements.asset, network].join('|')).digest('hex');
    const id = `x402_${createHash('sha256').update([network, offer.requirements.asset.toLowerCase(), a.from, a.nonce].join('|')).digest('hex').slice(0, 32)}`;
    const hold: X402Hold = { rail: 'x402', id, amountMicros: offer.priceMicros, payer: checked.payer, request, exact: checked.payload, paymentId, startedMs, answer: undefined };

    if (paymentId) {
      const known = await this.payments.byPaymentId(paymentId);
      if (known && known.payloadDigest !== digest) {
        await this.#signed(checked.payload, offer);
        throw new TollgateError('idempotency_conflict', 'this payment-identifier was used with a different payment', { field: `extensions.${PAYMENT_IDENTIFIER}.info.id` });
      }
    }
    // The lock and the facilitator's verdict are independent: ask for both at once. Nothing runs
    // until both are in, and a verdict for a payment someone else holds is simply dropped.
    const verifying = this.#facilitator.verify(toV2(payment, offer), offer.requirements).then((v) => ({ ok: true as const, v }), (error: unknown) => ({ ok: false as const, error }));
    const claim = await this.payments.claim({
      id, network, asset: offer.requirements.asset, payer: checked.payer, nonce: a.nonce, service: request.service.slug,
      sellerId: request.service.sellerId, amountMicros: offer.priceMicros, paymentId, payloadDigest: digest,
    });
    if (claim.type === 'taken') {
      await this.#signed(checked.payload, offer);
      return { ...hold, answer: await this.#answerTaken(claim.row, hold, digest) };
    }

    let verified: VerifyResponse;
    const verdict = await verifying;
    try {
      if (!verdict.ok) throw verdict.error;
      verified = verdict.v;
    } catch (error) {
      await this.payments.finish(id, 'failed', { errorReason: 'facilitator_unreachable' });
      throw new TollgateError('upstream_failed', `The x402 facilitator could not verify the payment: ${messageOf(error)}; nothing was charged`, { rail: 'x402' });
    }
    if (!verified.isValid) {
      await this.payments.finish(id, 'failed', { errorReason: verified.invalidReason ?? 'invalid_payload' });
      throw new X402Rejection(verified.invalidReason ?? 'invalid_payload', verified.invalidMessage ?? 'the facilitator refused the payment');
    }
    // The payer the lock and the records name is the one whose signature the facilitator checked.
    if (verified.payer !== undefined && verified.payer.toLowerCase() !== checked.payer.toLowerCase()) {
      await this.payments.finish(id, 'failed', { errorReason: 'invalid_exact_evm_signature' });
      throw new X402Rejection('invalid_exact_evm_signature', 'the facilitator verified another payer than authorization.from');
    }
    return hold;
  }

  /** Before a stored payment is answered: the request must be signed by its payer (nothing else checked it). */
  async #signed(payload: ExactEvmPayload, offer: Offer): Promise<void> {
    const signed = await checkExactEvmSignature(payload, offer.requirements);
    if (!signed.ok) throw new X402Rejection(signed.reason, signed.message);
  }

  /** The payment was presented before: its stored answer, or why it cannot be used again. */
  async #answerTaken(row: PaymentRow, hold: X402Hold, digest: string): Promise<StoredAnswer> {
    const sameRequest = hold.paymentId !== undefined && row.paymentId === hold.paymentId && row.payloadDigest === digest;
    if (row.status === 'in_flight') throw new TollgateError('call_in_flight', 'This payment is being used by a request still in flight; retry later', { callId: row.id, retryAfterSeconds: 1 });
    if (row.status === 'unknown') {
      const resolved = await this.#reconcile(row, hold);
      if (resolved !== 'settled') throw new X402Rejection('settlement_pending', `the settlement of this payment (tx ${row.txHash ?? 'not sent'}) has no known outcome yet; retry later`, 5);
      row = (await this.payments.get(row.id)) ?? row;
    }
    // An answer withheld while the outcome was unknown goes, once, to the payment that bought it.
    if (row.status === 'settled' && row.response?.withheld && row.payloadDigest === digest && (await this.payments.release(row.id))) {
      const { withheld: _, ...answer } = row.response;
      return answer;
    }
    if (row.status === 'settled' && sameRequest && row.response) return row.response;
    throw new X402Rejection('invalid_exact_evm_nonce_already_used', 'this payment was already used (send a payment-identifier to retry a paid request safely)');
  }

  /** Resolves an unknown settlement from its receipt: settled (earnings credited) or failed. */
  async #reconcile(row: PaymentRow, hold?: X402Hold): Promise<'settled' | 'failed' | 'unknown'> {
    if (!this.#receipts || !row.txHash) return 'unknown';
    const fate = await this.#receipts(row.txHash).catch(() => 'pending' as const);
    if (fate === 'pending') return 'unknown';
    if (fate === 'reverted') {
      await this.payments.finish(row.id, 'failed', { errorReason: 'invalid_exact_evm_transaction_failed' });
      return 'failed';
    }
    const settled = { id: row.id, txHash: row.txHash };
    // The credit follows the stored payment: a retry that arrives through another service (same
    // payTo) must not move the earnings to that service's seller.
    const sameService = hold && hold.request.service.slug === row.service && hold.request.service.sellerId === row.sellerId;
    if (hold && sameService) await this.#collect({ ...hold, id: row.id, amountMicros: row.amountMicros }, settled);
    else await this.#collectRow(row, 'reconciled from the chain', settled);
    return 'settled';
  }

  /**
   * Resolves every payment whose settlement outcome is unknown from its receipt (needs `receipts`):
   * mined → settled and the seller credited (the payer receives the answer on a retry); reverted →
   * failed. Run at start-up and whenever convenient; a retry of such a payment also resolves it.
   */
  async reconcileUnknown(): Promise<{ settled: number; failed: number; unknown: number }> {
    const counts = { settled: 0, failed: 0, unknown: 0 };
    for (const row of await this.payments.unknown()) counts[await this.#reconcile(row)] += 1;
    return counts;
  }

  async settle(hold: X402Hold, outcome: X402Outcome): Promise<X402Settlement> {
    if (hold.answer) throw new Error(`x402 payment ${hold.id} was already served; there is nothing to settle`);
    const { offer } = hold.request;
    let response: SettleResponse;
    try {
      response = await this.#facilitator.settle(toV2(hold.request.payment, offer), offer.requirements);
    } catch (error) {
      // A settle that timed out or whose answer was lost may have happened: unknown, not failed.
      const settled = (error as { settleResponse?: SettleResponse }).settleResponse;
      response = settled ?? { success: false, errorReason: 'settlement_pending', errorMessage: `the facilitator did not answer: ${messageOf(error)}`, transaction: '', network: offer.requirements.network };
    }
    if (response.success) {
      await this.#collect(hold, { id: hold.id, txHash: response.transaction, response: outcome.answer }, outcome.httpStatus);
      return { rail: 'x402', holdId: hold.id, outcome: 'settled', amountMicros: hold.amountMicros, reference: response.transaction, replay: false, response };
    }
    const unknown = response.errorReason === 'settlement_pending' || response.errorReason === 'unexpected_settle_error';
    const reason = response.errorReason ?? 'unexpected_settle_error';
    await this.payments.finish(hold.id, unknown ? 'unknown' : 'failed', {
      errorReason: reason, ...(response.transaction ? { txHash: response.transaction } : {}), ...(unknown ? { response: { ...outcome.answer, withheld: true } } : {}),
    });
    await this.#earnings.recordUncollected({
      ...this.#payment(hold, outcome.httpStatus), ...(response.transaction ? { reference: response.transaction } : {}),
      code: unknown ? 'x402_settlement_unknown' : 'x402_settlement_failed', reason: `${reason}${response.errorMessage ? `: ${response.errorMessage}` : ''}`,
    });
    throw new X402SettlementError(unknown ? 'unknown' : 'failed', reason, response.errorMessage ?? reason, response.transaction || undefined);
  }

  async void(hold: X402Hold, reason: string): Promise<X402Settlement> {
    await this.payments.finish(hold.id, 'voided', { errorReason: reason.slice(0, 200) });
    const network = hold.request.offer.requirements.network;
    return { rail: 'x402', holdId: hold.id, outcome: 'voided', amountMicros: 0n, replay: false, response: { success: false, errorReason: 'voided', transaction: '', network } };
  }

  /**
   * Credits the earnings of settled payments whose credit is missing (the process stopped between
   * the settlement and its ledger transfer). Looks at payments settled in the last `sinceHours`.
   */
  async recordMissingEarnings(sinceHours = 72): Promise<number> {
    let recorded = 0;
    for (const row of await this.payments.settledSince(sinceHours)) {
      const [transfer] = await this.#tg.ledger.lookupTransfers([`x402:${row.id}`]);
      if (transfer || !row.txHash) continue;
      await this.#collectRow(row, 'recorded after a restart');
      recorded += 1;
    }
    return recorded;
  }

  /** Credits a settled payment known only from its row (no request in hand). */
  async #collectRow(row: PaymentRow, tool: string, settled?: SettledPayment): Promise<void> {
    const [service] = await this.#tg.db.query<{ id: string }>('SELECT id FROM services WHERE slug = $1', [row.service]);
    await this.#credit({
      rail: 'x402', callId: row.id, sellerId: row.sellerId, serviceId: service?.id ?? row.service, service: row.service, tool,
      edge: 'http', amountMicros: row.amountMicros, payer: row.payer, network: row.network, reference: row.txHash ?? '',
    }, settled);
  }

  async #collect(hold: X402Hold, settled: SettledPayment, httpStatus?: number): Promise<void> {
    await this.#credit({ ...this.#payment(hold, httpStatus), reference: settled.txHash }, settled);
  }

  /**
   * The credit, its audit record and the payment's `settled` row in one ledger batch. Should that
   * batch fail, the row is still marked settled (the money moved; the answer may go) and the credit
   * is left to `recordMissingEarnings`.
   */
  async #credit(payment: CollectedPayment, settled: SettledPayment | undefined): Promise<void> {
    if (!settled) {
      await this.#earnings.record(payment);
      return;
    }
    try {
      await this.#earnings.record(payment, { writer: this.payments.settledRows, item: settled });
    } catch (error) {
      this.#onError(error);
      await this.payments.settle([settled]);
    }
  }

  #payment(hold: X402Hold, httpStatus?: number) {
    const { service, tool, edge, offer } = hold.request;
    return {
      rail: 'x402' as const, callId: hold.id, sellerId: service.sellerId, serviceId: service.id, service: service.slug, tool, edge,
      amountMicros: hold.amountMicros, payer: hold.payer, network: offer.requirements.network,
      latencyMs: Math.round(performance.now() - hold.startedMs), ...(httpStatus !== undefined ? { httpStatus } : {}),
    };
  }
}

/** The `payment-identifier` id the client sent, if any (16–128 of [A-Za-z0-9_-]). */
function paymentIdOf(payment: AnyPaymentPayload): string | undefined {
  if (payment.version !== 2) return undefined;
  const info = (payment.payload.extensions?.[PAYMENT_IDENTIFIER] as { info?: { id?: unknown } } | undefined)?.info;
  if (info?.id === undefined) return undefined;
  if (typeof info.id !== 'string' || !PAYMENT_ID.test(info.id)) throw new X402Rejection('invalid_payload', `extensions.${PAYMENT_IDENTIFIER}.info.id: 16 to 128 letters, digits, - or _`);
  return info.id;
}

/** The facilitator API takes v2 payloads; a v1 one is lifted to v2 against the offer it paid. */
function toV2(payment: AnyPaymentPayload, offer: Offer): PaymentPayload {
  if (payment.version === 2) return payment.payload;
  return { x402Version: 2, resource: offer.resource, accepted: offer.requirements, payload: payment.payload.payload };
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
}
