/**
 * @module mpp/seller
 * The seller side of MPP for one paid resource, independent of HTTP or MCP: no credential → fresh
 * challenges (one per intent offered); a credential → check the challenge (HMAC, realm, resource,
 * price, expiry), then run its intent:
 *
 * - `charge`: claim the challenge (single use) → verify the EIP-3009 authorization and the payer's
 *   balance → deliver → settle on chain → record earnings → receipt. If the upstream fails nothing
 *   is submitted (the payer keeps the money); if settlement fails the answer is withheld.
 * - `session`: accept the voucher and reserve the price from the channel → deliver → keep or give
 *   back the reservation; `close` settles the channel on chain and records the earnings.
 *
 * mppx's `Mppx.create` server bundles verification with settlement before the handler runs and
 * leaves replay protection to custom settlers; Tollgate needs "deliver, then take the money" and a
 * single-use store, so it composes mppx's primitives (Challenge, Credential, Receipt, the evm charge
 * validator) here instead.
 */
import type { ChallengeBook, MppChallenge } from './challenges.ts';
import type { MppCredential } from './credentials.ts';
import type { MppEarnings } from './earnings.ts';
import { chargeRequest, type EvmCharge } from './evm-charge.ts';
import type { EvmSessions, SessionSettlement } from './evm-session.ts';
import type { MppEvmChain } from './evm-chain.ts';
import type { Delivery, MppOffer, MppOutcome, MppReceipt } from './outcome.ts';
import { MppProblem } from './problems.ts';
import { MemorySingleUse, type SingleUseStore } from './single-use.ts';

export interface MppLogger {
  error(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export interface MppSellerOptions {
  book: ChallengeBook;
  chain: MppEvmChain;
  charge: EvmCharge;
  /** Present when an escrow is configured: then `session` is offered too. */
  sessions?: EvmSessions;
  earnings?: MppEarnings;
  singleUse?: SingleUseStore;
  logger?: MppLogger;
}

export class MppSeller {
  readonly #o: MppSellerOptions;
  readonly #singleUse: SingleUseStore;

  constructor(options: MppSellerOptions) {
    this.#o = options;
    this.#singleUse = options.singleUse ?? new MemorySingleUse();
  }

  /** Intents this seller can take for an offer (session only with an escrow). */
  intents(offer: MppOffer): MppOffer['intents'] {
    return offer.intents.filter((intent) => intent === 'charge' || this.#o.sessions !== undefined);
  }

  /** Fresh challenges for the offer, one per intent. */
  challenges(offer: MppOffer): MppChallenge[] {
    return this.intents(offer).map((intent) => this.#o.book.issue({
      method: 'evm', intent, resource: offer.resource,
      request: intent === 'charge' ? chargeRequest(this.#o.chain, offer.amountMicros) : this.#o.sessions!.request(offer.amountMicros),
      ...(offer.description ? { description: offer.description } : {}),
    }));
  }

  /**
   * Decides one request. `read` returns the credential (or undefined when none was sent) and may
   * throw a `malformed-credential` problem; `deliver` calls the upstream. Errors thrown by `deliver`
   * pass through untouched, after any reservation was given back.
   */
  async pay<T>(read: () => MppCredential | undefined, offer: MppOffer, deliver: () => Promise<Delivery<T>>): Promise<MppOutcome<T>> {
    try {
      const credential = read();
      if (!credential) throw new MppProblem('payment-required', `Payment is required: ${offer.description ?? offer.resource}`);
      const { challenge } = credential;
      if (challenge.method !== 'evm') throw new MppProblem('method-unsupported', `This server takes the evm method, not ${String(challenge.method).slice(0, 40)}`);
      if (!(this.intents(offer) as readonly string[]).includes(challenge.intent)) {
        throw new MppProblem('invalid-challenge', `This resource does not offer the ${String(challenge.intent).slice(0, 40)} intent`, { reason: 'intent_not_offered' });
      }
      const expiresMs = this.#o.book.check(challenge, offer);
      if (String(challenge.request.amount) !== offer.amountMicros.toString()) {
        throw new MppProblem('invalid-challenge', 'The price has changed since this challenge was issued', { reason: 'price_changed' });
      }
      return challenge.intent === 'charge'
        ? await this.#charge(credential, expiresMs, offer, deliver)
        : await this.#session(credential, offer, deliver);
    } catch (error) {
      if (!(error instanceof MppProblem)) throw error;
      return error.wantsChallenge ? { type: 'challenge', problem: error, challenges: this.challenges(offer) } : { type: 'refused', problem: error };
    }
  }

  async #charge<T>(credential: MppCredential, expiresMs: number, offer: MppOffer, deliver: () => Promise<Delivery<T>>): Promise<MppOutcome<T>> {
    const challengeId = credential.challenge.id;
    // Claimed before anything else runs: a concurrent or later use of this credential stops here.
    if (!this.#singleUse.claim(`challenge:${challengeId}`, expiresMs)) {
      throw new MppProblem('invalid-challenge', 'This challenge was already used; answer a fresh one', { reason: 'challenge_used' });
    }
    const verified = await this.#o.charge.verify(credential, this.#o.book.nowMs());
    const startedMs = performance.now();
    const delivered = await deliver();
    if (!delivered.chargeable) return { type: 'not_charged', value: delivered.value };
    const settlement = await this.#o.charge.settle(verified);
    if (settlement.type === 'failed') {
      this.#o.logger?.warn({ challengeId, reason: settlement.reason, txHash: settlement.txHash }, 'mpp charge settlement failed; the answer was withheld');
      throw new MppProblem('verification-failed', `Settlement failed (${settlement.reason}); nothing was delivered or charged`, { reason: 'settlement_failed', ...(settlement.txHash ? { txHash: settlement.txHash } : {}) });
    }
    if (settlement.type === 'unknown') {
      this.#o.logger?.error({ challengeId, txHash: settlement.txHash }, 'mpp charge settlement outcome unknown; the answer was withheld');
      throw new MppProblem('settlement-unknown', 'The payment was submitted but not confirmed in time; the answer is withheld. Check the transaction before paying again.', { txHash: settlement.txHash });
    }
    await this.#record(() => this.#o.earnings?.record({
      id: `charge:${challengeId}`, sellerId: offer.sellerId, serviceId: offer.serviceId, service: offer.service, tool: offer.tool, edge: offer.edge,
      amountMicros: verified.amount, kind: 'evm/charge', txHash: settlement.txHash, payer: verified.payer, calls: 1,
      latencyMs: Math.round(performance.now() - startedMs),
    }), { challengeId, txHash: settlement.txHash });
    const receipt: MppReceipt = {
      method: 'evm', intent: 'charge', status: 'success', timestamp: new Date().toISOString(),
      reference: settlement.txHash, challengeId, chainId: this.#o.chain.chainId,
    };
    return { type: 'paid', value: delivered.value, receipt };
  }

  async #session<T>(credential: MppCredential, offer: MppOffer, deliver: () => Promise<Delivery<T>>): Promise<MppOutcome<T>> {
    const sessions = this.#o.sessions!;
    const challengeId = credential.challenge.id;
    if (sessions.isClose(credential)) {
      const { receipt, settlement } = await sessions.close(credential, offer, challengeId);
      if (settlement) await this.#recordSession(settlement);
      return { type: 'closed', receipt };
    }
    const reserved = await sessions.reserve(credential, offer, challengeId);
    let delivered: Delivery<T>;
    try {
      delivered = await deliver();
    } catch (error) {
      reserved.giveBack();
      throw error;
    }
    if (!delivered.chargeable) {
      reserved.giveBack();
      return { type: 'not_charged', value: delivered.value };
    }
    return { type: 'paid', value: delivered.value, receipt: reserved.keep() };
  }

  async #recordSession(settlement: SessionSettlement): Promise<void> {
    for (const part of settlement.bySeller) {
      const { offer } = part;
      await this.#record(() => this.#o.earnings?.record({
        id: `session:${settlement.channelId}:${offer.sellerId}`, sellerId: offer.sellerId, serviceId: offer.serviceId, service: offer.service,
        tool: offer.tool, edge: offer.edge, amountMicros: part.micros, kind: 'evm/session', txHash: settlement.txHash,
        channelId: settlement.channelId, payer: settlement.payer, calls: part.calls,
      }), { channelId: settlement.channelId, txHash: settlement.txHash });
    }
  }

  /** The money has moved on chain: a ledger failure must not turn into "not paid"; it is logged to reconcile. */
  async #record(write: () => Promise<unknown> | undefined, facts: Record<string, unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.#o.logger?.error({ ...facts, err: error instanceof Error ? error.message : String(error) }, 'mpp settlement could not be recorded in the ledger; reconcile by its reference');
    }
  }
}
