/**
 * @module x402/facilitator/local-facilitator
 * An x402 facilitator for the `exact` scheme on one EVM chain: `verify` runs the checks that need
 * no chain (`../exact-evm.ts`) and then one `eth_call` of `transferWithAuthorization`, diagnosing a
 * failure from the token's state; `settle` submits `transferWithAuthorization` from the
 * facilitator's account and confirms the `Transfer` log in the receipt.
 *
 * - A settle repeated with the same signature (a retry) returns the first one's result; nothing is
 *   sent twice.
 * - A receipt that does not come within `receiptTimeoutMs` is `settlement_pending` with the hash:
 *   the outcome is unknown, not a failure.
 * - Sends are serialized so concurrent settlements never reuse an account nonce.
 */
import { getAddress, parseEventLogs, parseSignature, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import type { SettleResponse, SupportedResponse, VerifyResponse } from '@x402/core/types';
import { EIP3009_ABI } from '../eip3009-abi.ts';
import { checkExactEvm, evmChainId, type ExactEvmPayload } from '../exact-evm.ts';
import type { AnyPaymentPayload, PaymentRequirements } from '../wire.ts';

export interface LocalFacilitatorOptions {
  publicClient: PublicClient<Transport, Chain>;
  /** Submits settlements and pays their gas. */
  walletClient: WalletClient<Transport, Chain, Account>;
  /** How long a submitted settlement may take to be mined before its outcome counts as unknown. */
  receiptTimeoutMs?: number;
  /** Seconds since the epoch (tests move it). */
  nowSeconds?: () => bigint;
}

export const FACILITATOR_RECEIPT_TIMEOUT_MS = 60_000;
/** Enough for transferWithAuthorization on USDC; set so a send needs no gas estimate round trip. */
const SETTLE_GAS = 200_000n;
/** Most settle results remembered for retries (a retry of an older one re-reads the chain). */
const SETTLED_MEMORY_MAX = 100_000;

type Verdict = { ok: true; payload: ExactEvmPayload; payer: Address } | { ok: false; response: VerifyResponse };

export class LocalFacilitator {
  readonly network: `eip155:${number}`;
  readonly #public: PublicClient<Transport, Chain>;
  readonly #wallet: WalletClient<Transport, Chain, Account>;
  readonly #receiptTimeoutMs: number;
  readonly #now: () => bigint;
  readonly #deployed = new Set<string>();
  readonly #settles = new Map<string, Promise<SettleResponse>>();
  #sendQueue: Promise<unknown> = Promise.resolve();

  constructor(options: LocalFacilitatorOptions) {
    this.#public = options.publicClient;
    this.#wallet = options.walletClient;
    this.network = `eip155:${options.publicClient.chain.id}`;
    this.#receiptTimeoutMs = options.receiptTimeoutMs ?? FACILITATOR_RECEIPT_TIMEOUT_MS;
    this.#now = options.nowSeconds ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  }

  supported(): SupportedResponse {
    return {
      kinds: [
        { x402Version: 2, scheme: 'exact', network: this.network },
        { x402Version: 1, scheme: 'exact', network: this.network },
      ],
      extensions: [],
      signers: { 'eip155:*': [this.#wallet.account.address] },
    };
  }

  async verify(payment: AnyPaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse> {
    const verdict = await this.#verify(payment, requirements, true);
    return verdict.ok ? { isValid: true, payer: verdict.payer } : verdict.response;
  }

  async settle(payment: AnyPaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
    const signature = String(payment.payload.payload.signature ?? '');
    const pending = this.#settles.get(signature);
    if (pending) return pending;
    const settling = this.#settle(payment, requirements);
    if (this.#settles.size >= SETTLED_MEMORY_MAX) this.#settles.delete(this.#settles.keys().next().value!);
    this.#settles.set(signature, settling);
    // A failure before anything was sent may be retried with the same signature.
    void settling.then((r) => { if (!r.success && !r.transaction) this.#settles.delete(signature); }, () => this.#settles.delete(signature));
    return settling;
  }

  async #verify(payment: AnyPaymentPayload, requirements: PaymentRequirements, simulate: boolean): Promise<Verdict> {
    const { scheme, network } = payment.version === 2 ? payment.payload.accepted : payment.payload;
    const invalid = (invalidReason: string, invalidMessage: string, payer?: string): Verdict => ({ ok: false, response: { isValid: false, invalidReason, invalidMessage, ...(payer ? { payer } : {}) } });
    if (evmChainId(requirements.network) !== this.#public.chain.id) return invalid('invalid_network', `this facilitator settles on ${this.network} only`);
    const checked = await checkExactEvm(scheme, network, payment.payload.payload, requirements, this.#now());
    if (!checked.ok) return invalid(checked.reason, checked.message, checked.payer);
    const asset = getAddress(requirements.asset);
    if (!this.#deployed.has(asset)) {
      const code = await this.#public.getCode({ address: asset });
      if (!code || code === '0x') return invalid('asset_not_deployed_contract', `no contract at ${asset}`, checked.payer);
      this.#deployed.add(asset);
    }
    if (simulate) {
      try {
        await this.#public.simulateContract({ address: asset, abi: EIP3009_ABI, functionName: 'transferWithAuthorization', args: callArgs(checked.payload), account: this.#wallet.account });
      } catch {
        const [reason, message] = await this.#diagnose(asset, checked.payload);
        return invalid(reason, message, checked.payer);
      }
    }
    return checked;
  }

  /** Why a transfer would fail, read from the token (the SDK's multicall diagnosis, one read at a time). */
  async #diagnose(asset: Address, { authorization: a }: ExactEvmPayload): Promise<[string, string]> {
    const [used, balance] = await Promise.all([
      this.#public.readContract({ address: asset, abi: EIP3009_ABI, functionName: 'authorizationState', args: [a.from, a.nonce] }),
      this.#public.readContract({ address: asset, abi: EIP3009_ABI, functionName: 'balanceOf', args: [a.from] }),
    ]).catch(() => [undefined, undefined] as const);
    if (used === true) return ['invalid_exact_evm_nonce_already_used', 'this authorization was already used or canceled'];
    if (balance !== undefined && balance < a.value) return ['insufficient_funds', `the payer holds ${balance}, the payment is ${a.value}`];
    return ['invalid_exact_evm_transaction_simulation_failed', 'transferWithAuthorization would revert'];
  }

  async #settle(payment: AnyPaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
    const network = requirements.network as `${string}:${string}`;
    const failed = (errorReason: string, errorMessage: string, payer?: string, transaction = ''): SettleResponse => ({ success: false, errorReason, errorMessage, transaction, network, ...(payer ? { payer } : {}) });
    const verdict = await this.#verify(payment, requirements, false);
    if (!verdict.ok) return failed(verdict.response.invalidReason ?? 'invalid_payload', verdict.response.invalidMessage ?? '', verdict.response.payer);
    const asset = getAddress(requirements.asset);
    let hash: Hex;
    try {
      hash = await this.#send(() => this.#wallet.writeContract({ address: asset, abi: EIP3009_ABI, functionName: 'transferWithAuthorization', args: callArgs(verdict.payload), gas: SETTLE_GAS }));
    } catch (error) {
      return failed('unexpected_settle_error', `sending the settlement failed: ${(error as Error).message.split('\n')[0]}`, verdict.payer);
    }
    let receipt;
    try {
      receipt = await this.#public.waitForTransactionReceipt({ hash, timeout: this.#receiptTimeoutMs });
    } catch {
      return failed('settlement_pending', `no receipt within ${this.#receiptTimeoutMs} ms; the transaction may still be mined`, verdict.payer, hash);
    }
    if (receipt.status !== 'success') {
      const [reason, message] = await this.#diagnose(asset, verdict.payload);
      return failed(reason === 'invalid_exact_evm_transaction_simulation_failed' ? 'invalid_exact_evm_transaction_failed' : reason, `the settlement reverted: ${message}`, verdict.payer, hash);
    }
    const { from, to, value } = verdict.payload.authorization;
    const moved = parseEventLogs({ abi: EIP3009_ABI, eventName: 'Transfer', logs: receipt.logs }).some(
      (log) => getAddress(log.address) === asset && log.args.from === from && log.args.to === to && log.args.value === value,
    );
    if (!moved) return failed('invalid_exact_evm_transfer_event_mismatch', 'the receipt has no matching Transfer log', verdict.payer, hash);
    return { success: true, transaction: hash, network, payer: verdict.payer, amount: value.toString() };
  }

  #send<T>(send: () => Promise<T>): Promise<T> {
    const sent = this.#sendQueue.then(send, send);
    this.#sendQueue = sent.catch(() => undefined);
    return sent;
  }
}

function callArgs({ authorization: a, signature }: ExactEvmPayload) {
  const { v, r, s, yParity } = parseSignature(signature);
  return [a.from, a.to, a.value, a.validAfter, a.validBefore, a.nonce, Number(v ?? BigInt(yParity + 27)), r, s] as const;
}
