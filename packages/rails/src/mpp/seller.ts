/**
 * @module mpp/seller
 * The seller side of MPP for one paid resource, independent of HTTP or MCP: no credential → fresh
 * challenges (one per intent offered); a credential → the rail's authorize (challenge checks, then
 * the intent's hold) → deliver → settle on a success, void on an upstream failure. A session's
 * `close` settles its channel instead and delivers nothing.
 *
 * mppx's `Mppx.create` server verifies and settles before the handler runs and leaves replay
 * protection to custom settlers; Tollgate delivers first, takes the money after, and keeps a
 * single-use store, so it composes mppx's primitives (Challenge, Credential, Receipt, the evm
 * charge validator) through its own rail (`mpp-rail.ts`) instead.
 */
import { byPreference } from './accept-payment.ts';
import type { ChallengeBook, MppChallenge } from './challenges.ts';
import type { MppCredential } from './credentials.ts';
import type { RailEarnings } from '../earnings.ts';
import { chargeRequest, type EvmCharge } from './evm-charge.ts';
import type { EvmSessions } from './evm-session.ts';
import type { MppEvmChain } from './evm-chain.ts';
import { MppRail, type MppLogger } from './mpp-rail.ts';
import type { Delivery, MppOffer, MppOutcome } from './outcome.ts';
import { MppProblem } from './problems.ts';
import { MemorySingleUse, type SingleUseStore } from './single-use.ts';

export type { MppLogger } from './mpp-rail.ts';

export interface MppSellerOptions {
  book: ChallengeBook;
  chain: MppEvmChain;
  charge: EvmCharge;
  /** Present when an escrow is configured: then `session` is offered too. */
  sessions?: EvmSessions;
  earnings?: RailEarnings;
  singleUse?: SingleUseStore;
  logger?: MppLogger;
}

export interface PayOptions {
  /** The request's `Accept-Payment`. */
  acceptPayment?: string | null;
  /** The request's `Idempotency-Key` (charge only). */
  idempotencyKey?: string;
}

export class MppSeller {
  readonly rail: MppRail;
  readonly #o: MppSellerOptions;

  constructor(options: MppSellerOptions) {
    this.#o = options;
    this.rail = new MppRail({ ...options, singleUse: options.singleUse ?? new MemorySingleUse() });
  }

  /** Intents this seller can take for an offer (session only with an escrow). */
  intents(offer: MppOffer): MppOffer['intents'] {
    return offer.intents.filter((intent) => intent === 'charge' || this.#o.sessions !== undefined);
  }

  /** Fresh challenges for the offer, one per intent, as the client's `Accept-Payment` prefers them. */
  challenges(offer: MppOffer, acceptPayment?: string | null): MppChallenge[] {
    const intents = byPreference(this.intents(offer).map((intent) => ({ method: 'evm', intent })), acceptPayment).map((p) => p.intent as MppOffer['intents'][number]);
    return intents.map((intent) => this.#o.book.issue({
      method: 'evm', intent, resource: offer.resource,
      request: intent === 'charge' ? chargeRequest(this.#o.chain, offer.amountMicros) : this.#o.sessions!.request(offer.amountMicros),
      ...(offer.description ? { description: offer.description } : {}),
    }));
  }

  /**
   * Decides one request. `read` returns the credential (or undefined when none was sent) and may
   * throw a `malformed-credential` problem; `deliver` calls the upstream. Errors thrown by `deliver`
   * pass through untouched, after the hold was voided. `acceptPayment` orders and filters challenges;
   * with an `idempotencyKey`, a retry of a paid charge credential gets the answer it bought.
   */
  async pay<T>(read: () => MppCredential | undefined, offer: MppOffer, deliver: () => Promise<Delivery<T>>, options: PayOptions = {}): Promise<MppOutcome<T>> {
    const { acceptPayment, idempotencyKey } = options;
    try {
      const credential = read();
      if (!credential) throw new MppProblem('payment-required', `Payment is required: ${offer.description ?? offer.resource}`);
      if (credential.challenge.intent === 'session' && this.#o.sessions?.isClose(credential)) return await this.#close(credential, offer);
      if (credential.challenge.intent === 'charge' && idempotencyKey) {
        const answer = await this.rail.replayed(credential.challenge.id, idempotencyKey);
        if (answer) return { type: 'replayed', answer };
      }
      const hold = await this.rail.authorize({ credential, offer, ...(idempotencyKey ? { idempotencyKey } : {}) });
      let delivered: Delivery<T>;
      try {
        delivered = await deliver();
      } catch (error) {
        await this.rail.void(hold, 'the upstream failed');
        throw error;
      }
      if (!delivered.chargeable) {
        await this.rail.void(hold, 'the upstream answered with a failure');
        return { type: 'not_charged', value: delivered.value };
      }
      const settled = await this.rail.settle(hold);
      return { type: 'paid', value: delivered.value, receipt: settled.receipt! };
    } catch (error) {
      if (!(error instanceof MppProblem)) throw error;
      return error.wantsChallenge ? { type: 'challenge', problem: error, challenges: this.challenges(offer, acceptPayment) } : { type: 'refused', problem: error };
    }
  }

  async #close<T>(credential: MppCredential, offer: MppOffer): Promise<MppOutcome<T>> {
    // The challenge must still be ours and for this resource; the channel's own vouchers prove the rest.
    this.#o.book.check(credential.challenge, offer);
    const { receipt, settlement } = await this.#o.sessions!.close(credential, offer, credential.challenge.id);
    for (const part of settlement?.bySeller ?? []) {
      const o = part.offer;
      // The call id names the channel (the session's reference); the reference is the close transaction.
      await this.rail.record({
        rail: 'mpp', callId: `mpp_session_${settlement!.channelId}_${o.sellerId}`, sellerId: o.sellerId, serviceId: o.serviceId, service: o.service,
        tool: `${o.tool} (session, ${part.calls} call${part.calls === 1 ? '' : 's'})`, edge: o.edge, amountMicros: part.micros,
        reference: settlement!.txHash, payer: settlement!.payer, network: this.rail.network,
      });
    }
    return { type: 'closed', receipt };
  }
}
