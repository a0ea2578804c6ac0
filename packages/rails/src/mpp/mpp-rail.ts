/**
 * @module mpp/mpp-rail
 * MPP as a Tollgate rail (`../rail.ts`), for one call at a time:
 *
 * - `authorize({ credential, offer })` → a hold. `charge`: the challenge is claimed (single use) and
 *   the EIP-3009 authorization verified, with the payer's balance and nonce on chain; nothing moves
 *   yet. `session`: the voucher is accepted and the call's price reserved from the channel.
 * - `settle(hold)` → `charge`: the authorization is submitted, its receipt and `Transfer` log checked,
 *   and the earnings recorded; `session`: the reservation is kept (no transaction; the channel is
 *   settled on `close`). Returns the receipt to send.
 * - `void(hold)` → `charge`: nothing is submitted, so the payer keeps the money; `session`: the
 *   reservation is given back.
 *
 * Refusals are `MppProblem`s (the protocol's own problem types), not `TollgateError`s.
 */
import type { Rail, RailDescription, RailHold, RailSettlement } from '../rail.ts';
import type { ChallengeBook } from './challenges.ts';
import type { MppCredential } from './credentials.ts';
import type { CollectedPayment, RailEarnings } from '../earnings.ts';
import type { EvmCharge, VerifiedCharge } from './evm-charge.ts';
import type { MppEvmChain } from './evm-chain.ts';
import type { EvmSessions, SessionCharge } from './evm-session.ts';
import type { MppOffer, MppReceipt } from './outcome.ts';
import { MppProblem } from './problems.ts';
import type { SingleUseStore, StoredAnswer } from './single-use.ts';

export interface MppLogger {
  error(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export interface MppAuthorizeRequest {
  credential: MppCredential;
  offer: MppOffer;
  /** The request's `Idempotency-Key`, kept with the claim so a retry gets the paid answer again. */
  idempotencyKey?: string;
}

export interface MppHold extends RailHold {
  rail: 'mpp';
  challengeId: string;
  offer: MppOffer;
  /** `charge`: the verified authorization to submit; `session`: the reservation on the channel. */
  pending: { intent: 'charge'; verified: VerifiedCharge } | { intent: 'session'; reserved: SessionCharge };
  startedMs: number;
}

export interface MppSettlement extends RailSettlement {
  receipt?: MppReceipt;
}

export interface MppRailOptions {
  book: ChallengeBook;
  chain: MppEvmChain;
  charge: EvmCharge;
  sessions?: EvmSessions;
  /** Where settlements become seller earnings (and failed ones an audit record). */
  earnings?: RailEarnings;
  singleUse: SingleUseStore;
  logger?: MppLogger;
}

export class MppRail implements Rail<MppAuthorizeRequest, MppHold, void> {
  readonly rail = 'mpp' as const;
  readonly #o: MppRailOptions;

  constructor(options: MppRailOptions) {
    this.#o = options;
  }

  describe(): RailDescription {
    const { chainId, token } = this.#o.chain;
    const intents = this.#o.sessions ? `charge (EIP-3009) and session (escrow ${this.#o.sessions.escrow})` : 'charge (EIP-3009)';
    return { rail: this.rail, summary: `MPP evm ${intents} on eip155:${chainId}`, currency: `eip155:${chainId}/${token.address}`, external: true };
  }

  /** Checks the echoed challenge (HMAC, realm, resource, price, expiry), then holds by intent. */
  async authorize({ credential, offer, idempotencyKey }: MppAuthorizeRequest): Promise<MppHold> {
    const { challenge } = credential;
    if (challenge.method !== 'evm') throw new MppProblem('method-unsupported', `This server takes the evm method, not ${String(challenge.method).slice(0, 40)}`);
    if (challenge.intent !== 'charge' && (challenge.intent !== 'session' || !this.#o.sessions) || !(offer.intents as readonly string[]).includes(challenge.intent)) {
      throw new MppProblem('invalid-challenge', `This resource does not offer the ${String(challenge.intent).slice(0, 40)} intent`, { reason: 'intent_not_offered' });
    }
    const expiresMs = this.#o.book.check(challenge, offer);
    if (String(challenge.request.amount) !== offer.amountMicros.toString()) {
      throw new MppProblem('invalid-challenge', 'The price has changed since this challenge was issued', { reason: 'price_changed' });
    }
    const base = { rail: this.rail, id: challenge.id, challengeId: challenge.id, amountMicros: offer.amountMicros, offer, startedMs: performance.now() };
    if (challenge.intent === 'session') {
      const reserved = await this.#o.sessions!.reserve(credential, offer, challenge.id);
      return { ...base, payer: reserved.channelId, pending: { intent: 'session', reserved } };
    }
    // Claimed before anything else runs: a concurrent or later use of this credential stops here.
    if (!(await this.#o.singleUse.claim(`challenge:${challenge.id}`, expiresMs, idempotencyKey))) {
      throw new MppProblem('invalid-challenge', 'This challenge was already used; answer a fresh one', { reason: 'challenge_used' });
    }
    const verified = await this.#o.charge.verify(credential, this.#o.book.nowMs());
    return { ...base, amountMicros: verified.amount, payer: verified.payer, pending: { intent: 'charge', verified } };
  }

  /** Takes the money; throws an `MppProblem` when a charge cannot be settled (withhold the answer then). */
  async settle(hold: MppHold): Promise<MppSettlement> {
    if (hold.pending.intent === 'session') {
      const receipt = await hold.pending.reserved.keep();
      return { rail: this.rail, holdId: hold.id, outcome: 'settled', amountMicros: hold.amountMicros, reference: hold.pending.reserved.channelId, replay: false, receipt };
    }
    const { verified } = hold.pending;
    const settlement = await this.#o.charge.settle(verified);
    if (settlement.type !== 'settled') await this.#recordUncollected(hold, settlement.type === 'failed' ? settlement.reason : 'no receipt in time', settlement.type, settlement.txHash);
    if (settlement.type === 'failed') {
      this.#o.logger?.warn({ challengeId: hold.challengeId, reason: settlement.reason, txHash: settlement.txHash }, 'mpp charge settlement failed; the answer was withheld');
      throw new MppProblem('verification-failed', `Settlement failed (${settlement.reason}); nothing was delivered or charged`, { reason: 'settlement_failed', ...(settlement.txHash ? { txHash: settlement.txHash } : {}) });
    }
    if (settlement.type === 'unknown') {
      this.#o.logger?.error({ challengeId: hold.challengeId, txHash: settlement.txHash }, 'mpp charge settlement outcome unknown; the answer was withheld');
      throw new MppProblem('settlement-unknown', 'The payment was submitted but not confirmed in time; the answer is withheld. Check the transaction before paying again.', { txHash: settlement.txHash });
    }
    const { offer } = hold;
    await this.record({
      rail: 'mpp', callId: `mpp_charge_${hold.challengeId}`, sellerId: offer.sellerId, serviceId: offer.serviceId, service: offer.service, tool: offer.tool, edge: offer.edge,
      amountMicros: verified.amount, reference: settlement.txHash, payer: verified.payer, network: this.network, latencyMs: Math.round(performance.now() - hold.startedMs),
    });
    const receipt: MppReceipt = {
      method: 'evm', intent: 'charge', status: 'success', timestamp: new Date().toISOString(),
      reference: settlement.txHash, challengeId: hold.challengeId, chainId: this.#o.chain.chainId,
    };
    return { rail: this.rail, holdId: hold.id, outcome: 'settled', amountMicros: verified.amount, reference: settlement.txHash, replay: false, receipt };
  }

  async void(hold: MppHold, _reason: string): Promise<MppSettlement> {
    // A charge's authorization is simply never submitted; it expires unused with the challenge.
    if (hold.pending.intent === 'session') await hold.pending.reserved.giveBack();
    return { rail: this.rail, holdId: hold.id, outcome: 'voided', amountMicros: 0n, replay: false };
  }

  /** The answer a charge credential already bought with this `Idempotency-Key`, if any. */
  replayed(challengeId: string, idempotencyKey: string): Promise<StoredAnswer | undefined> {
    return this.#o.singleUse.answer(`challenge:${challengeId}`, idempotencyKey);
  }

  /** Keeps a paid charge's answer for retries with its `Idempotency-Key`. */
  remember(challengeId: string, answer: StoredAnswer): Promise<void> {
    return this.#o.singleUse.remember(`challenge:${challengeId}`, answer);
  }

  /** The money has moved on chain: a ledger failure must not turn into "not paid"; it is logged to reconcile. */
  async record(payment: CollectedPayment): Promise<void> {
    try {
      await this.#o.earnings?.record(payment);
    } catch (error) {
      this.#o.logger?.error({ callId: payment.callId, reference: payment.reference, err: error instanceof Error ? error.message : String(error) }, 'mpp settlement could not be recorded in the ledger; reconcile by its reference');
    }
  }

  /** CAIP-2 id of the chain, as settlements are recorded. */
  get network(): string {
    return `eip155:${this.#o.chain.chainId}`;
  }

  /** A charge that did not land: audited as such (never as insufficient funds); nothing moved in the ledger. */
  async #recordUncollected(hold: MppHold, reason: string, outcome: 'failed' | 'unknown', txHash: string | undefined): Promise<void> {
    const { offer } = hold;
    try {
      await this.#o.earnings?.recordUncollected({
        rail: 'mpp', callId: `mpp_charge_${hold.challengeId}`, sellerId: offer.sellerId, serviceId: offer.serviceId, service: offer.service, tool: offer.tool,
        edge: offer.edge, amountMicros: hold.amountMicros, payer: hold.payer, network: this.network, code: `mpp_settlement_${outcome}`, reason,
        ...(txHash ? { reference: txHash } : {}),
      });
    } catch (error) {
      this.#o.logger?.error({ challengeId: hold.challengeId, err: error instanceof Error ? error.message : String(error) }, 'mpp: an uncollected charge could not be audited');
    }
  }
}
