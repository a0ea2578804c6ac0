/**
 * @module mpp/upstream-payer
 * The buyer side of MPP (`../upstream-payer.ts`): when an upstream answers 402 with
 * `WWW-Authenticate: Payment` challenges, Tollgate pays one `evm`/`charge` challenge from its own
 * key (the agent never sees it), with mppx's own evm charge client (EIP-3009, challenge-bound
 * nonce), only in a token it was told about (the EIP-712 domain is not in the challenge), and never
 * above the call's hold. The provider's `Payment-Receipt` is read back from the paid answer.
 */
import { Challenge, Receipt } from 'mppx';
import { evm as evmClient } from 'mppx/client';
import { getAddress, type Address, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { TollgateError, formatMicros } from '@tollgate/core';
import type { UpstreamChallenge, UpstreamPayer, UpstreamPayment, UpstreamReceipt } from '../upstream-payer.ts';

/** A token Tollgate may pay MPP upstreams in. */
export interface PayableToken {
  chainId: number;
  address: Address;
  /** The token's EIP-712 domain (`USD Coin` / `2` for USDC). */
  name: string;
  version: string;
}

interface Candidate {
  challenge: Challenge.Challenge;
  token: PayableToken;
  amount: bigint;
}

export class MppPayer implements UpstreamPayer {
  readonly rail = 'mpp' as const;
  readonly address: Address;
  readonly #account: ReturnType<typeof privateKeyToAccount>;
  readonly #tokens: readonly PayableToken[];

  constructor(options: { privateKey: Hex; tokens: readonly PayableToken[] }) {
    this.#account = privateKeyToAccount(options.privateKey);
    this.address = this.#account.address;
    this.#tokens = options.tokens.map((t) => ({ ...t, address: getAddress(t.address) }));
  }

  async pay(upstream: UpstreamChallenge, holdMicros: bigint): Promise<UpstreamPayment | undefined> {
    const candidates = this.#candidates(upstream.headers);
    if (candidates.length === 0) return undefined;
    const chosen = candidates.filter((c) => c.amount <= holdMicros).sort((a, b) => (a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0))[0];
    if (!chosen) {
      const cheapest = candidates.map((c) => c.amount).reduce((a, b) => (a < b ? a : b));
      throw new TollgateError('budget_exceeded', `The upstream asks ${formatMicros(cheapest)} over MPP, more than this call's hold of ${formatMicros(holdMicros)}; nothing was paid`, { limit: 'hold', requested: formatMicros(cheapest), cap: formatMicros(holdMicros), rail: 'mpp' });
    }
    const { token } = chosen;
    const method = evmClient.charge({ account: this.#account, authorization: { name: token.name, version: token.version }, currencies: [token.address], networks: [token.chainId], decimals: 6 });
    const credential = await method.createCredential({ challenge: chosen.challenge as never, context: {} });
    const request = chosen.challenge.request as { recipient: string };
    return {
      rail: this.rail,
      headers: { authorization: credential },
      amountMicros: chosen.amount,
      details: { method: 'evm', intent: 'charge', network: `eip155:${token.chainId}`, asset: token.address, payTo: getAddress(request.recipient), payer: this.address, challengeId: chosen.challenge.id },
    };
  }

  receipt(headers: Headers): UpstreamReceipt | undefined {
    const value = headers.get('payment-receipt');
    if (!value) return undefined;
    try {
      const receipt = Receipt.deserialize(value) as Receipt.Receipt & Record<string, unknown>;
      return { settled: receipt.status === 'success', reference: receipt.reference, raw: receipt };
    } catch {
      return { settled: false, raw: { unreadable: value.slice(0, 200) } };
    }
  }

  /** evm/charge challenges in a known token, with a whole amount and a recipient; anything else is not ours. */
  #candidates(headers: Headers): Candidate[] {
    let challenges: Challenge.Challenge[];
    try {
      challenges = headers.get('www-authenticate') ? Challenge.fromHeadersList(headers) : [];
    } catch {
      return [];
    }
    return challenges.flatMap((challenge) => {
      const request = challenge.request as { amount?: unknown; currency?: unknown; recipient?: unknown; methodDetails?: { chainId?: unknown; credentialTypes?: unknown } };
      if (challenge.method !== 'evm' || challenge.intent !== 'charge') return [];
      if (typeof request.amount !== 'string' || !/^\d{1,30}$/.test(request.amount) || typeof request.recipient !== 'string') return [];
      const types = request.methodDetails?.credentialTypes;
      if (Array.isArray(types) && !types.includes('authorization')) return [];
      const token = this.#tokens.find((t) => t.chainId === request.methodDetails?.chainId && typeof request.currency === 'string' && /^0x[0-9a-fA-F]{40}$/.test(request.currency) && getAddress(request.currency) === t.address);
      return token ? [{ challenge, token, amount: BigInt(request.amount) }] : [];
    });
  }
}
