/**
 * @module x402/buyer/x402-payer
 * Pays an upstream's x402 challenge (`exact`, EIP-3009, on an `eip155` network) from Tollgate's own
 * key, choosing the cheapest option that fits the call's hold. Amounts are read as 6-decimal
 * stablecoin units (USDC): one base unit = one micro-unit.
 */
import { x402Client, x402HTTPClient } from '@x402/core/client';
import { decodePaymentResponseHeader } from '@x402/core/http';
import type { PaymentRequired } from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { privateKeyToAccount } from 'viem/accounts';
import type { Hex } from 'viem';
import { TollgateError, formatMicros } from '@tollgate/core';
import type { UpstreamChallenge, UpstreamPayer, UpstreamPayment, UpstreamReceipt } from '../../upstream-payer.ts';
import { X402_HEADERS } from '../wire.ts';

const AMOUNT = /^\d{1,30}$/;

export class X402Payer implements UpstreamPayer {
  readonly rail = 'x402' as const;
  readonly address: string;
  readonly #http: x402HTTPClient;

  constructor(options: { privateKey: Hex }) {
    const account = privateKeyToAccount(options.privateKey);
    this.address = account.address;
    // Tollgate enforces the budget itself (the hold); the SDK's own caps would only disagree with it.
    this.#http = new x402HTTPClient(x402Client.fromConfig({ schemes: [{ network: 'eip155:*', client: new ExactEvmScheme(account) }], spendControls: false }));
  }

  async pay(challenge: UpstreamChallenge, holdMicros: bigint): Promise<UpstreamPayment | undefined> {
    let required: PaymentRequired;
    try {
      required = this.#http.getPaymentRequiredResponse((name) => challenge.headers.get(name), challenge.body);
    } catch {
      return undefined;
    }
    const payable = (required.accepts ?? []).filter((r) => r.scheme === 'exact' && r.network.startsWith('eip155:') && AMOUNT.test(String(r.amount ?? (r as { maxAmountRequired?: string }).maxAmountRequired)));
    if (payable.length === 0) return undefined;
    const price = (r: (typeof payable)[number]) => BigInt(String(r.amount ?? (r as { maxAmountRequired?: string }).maxAmountRequired));
    const affordable = payable.filter((r) => price(r) <= holdMicros).sort((a, b) => (price(a) < price(b) ? -1 : price(a) > price(b) ? 1 : 0));
    const chosen = affordable[0];
    if (!chosen) {
      const cheapest = payable.map(price).reduce((a, b) => (a < b ? a : b));
      throw new TollgateError('budget_exceeded', `The upstream asks ${formatMicros(cheapest)} over x402, more than this call's hold of ${formatMicros(holdMicros)}; nothing was paid`, { limit: 'hold', requested: formatMicros(cheapest), cap: formatMicros(holdMicros), rail: 'x402' });
    }
    const payload = await this.#http.createPaymentPayload({ ...required, accepts: [chosen] });
    return {
      rail: this.rail,
      headers: this.#http.encodePaymentSignatureHeader(payload),
      amountMicros: price(chosen),
      details: { scheme: chosen.scheme, network: chosen.network, asset: chosen.asset, payTo: chosen.payTo, payer: this.address },
    };
  }

  receipt(headers: Headers): UpstreamReceipt | undefined {
    const value = headers.get(X402_HEADERS.paymentResponse) ?? headers.get(X402_HEADERS.xPaymentResponse);
    if (!value) return undefined;
    try {
      const settled = decodePaymentResponseHeader(value);
      return { settled: settled.success === true, ...(settled.transaction ? { reference: settled.transaction } : {}), raw: settled as unknown as Record<string, unknown> };
    } catch {
      return { settled: false, raw: { undecodable: value.slice(0, 200) } };
    }
  }
}
