/**
 * @module balance/balance-rail
 * The internal prepaid balance as a rail: `authorize` is the guard's one atomic hold over the wallet
 * and every limit, `settle` captures (or voids, by the call's status), `void` releases. Replays and
 * calls still in flight are the guard's answers, passed through on the hold so an edge can answer
 * them without calling the upstream again.
 */
import type { Authorization, CallRequest, Guard, SettleInput } from '@tollgate/core';
import type { Rail, RailDescription, RailHold, RailSettlement } from '../rail.ts';

export interface BalanceHold extends RailHold {
  rail: 'balance';
  /** The guard's answer: `authorized` (held), `replayed` (finished before) or `in_flight`. */
  authorization: Authorization;
}

/** How the call ended, as the guard records it (`ok` captures; failures void unless charged). */
export type BalanceOutcome = Omit<SettleInput, 'callId'>;

export class BalanceRail implements Rail<CallRequest, BalanceHold, BalanceOutcome> {
  readonly rail = 'balance' as const;
  readonly #guard: Guard;
  readonly #currency: string;

  constructor(options: { guard: Guard; currency?: string }) {
    this.#guard = options.guard;
    this.#currency = options.currency ?? 'USD';
  }

  describe(): RailDescription {
    return { rail: this.rail, summary: 'internal prepaid balance (the ledger)', currency: this.#currency, external: false };
  }

  async authorize(request: CallRequest): Promise<BalanceHold> {
    const authorization = await this.#guard.authorize(request);
    const amountMicros = authorization.type === 'authorized' ? authorization.holdMicros : 0n;
    return { rail: this.rail, id: authorization.callId, amountMicros, payer: request.token.slice(0, 12), authorization };
  }

  async settle(hold: BalanceHold, outcome: BalanceOutcome): Promise<RailSettlement> {
    if (hold.authorization.type !== 'authorized') {
      throw new Error(`balance rail: call ${hold.id} is ${hold.authorization.type}, there is nothing to settle`);
    }
    const settled = await this.#guard.settle({ ...outcome, callId: hold.id });
    return {
      rail: this.rail,
      holdId: hold.id,
      outcome: settled.outcome === 'captured' ? 'settled' : 'voided',
      amountMicros: settled.chargedMicros,
      reference: hold.id,
      replay: settled.replay,
    };
  }

  async void(hold: BalanceHold, reason: string): Promise<RailSettlement> {
    return this.settle(hold, { status: 'cancelled', summary: reason });
  }
}
