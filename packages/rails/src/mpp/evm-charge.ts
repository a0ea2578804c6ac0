/**
 * @module mpp/evm-charge
 * The `charge` intent of the `evm` method with `type:"authorization"` credentials (EIP-3009,
 * draft-evm-charge §"Authorization Verification"): the client signs `transferWithAuthorization`
 * with the challenge-bound nonce `keccak256(challenge.id ‖ challenge.realm)`, the server submits it.
 *
 * Verification reuses mppx's own evm charge validator (signature, payee, amount, nonce binding,
 * validity window) and adds what mppx leaves to "custom settlers": the server's clock, the payer's
 * balance and the nonce's state on chain, and a simulation of the transfer. Settlement submits the
 * transfer, waits for the receipt and checks its `Transfer` log; a receipt that never comes is an
 * unknown outcome, not a failure, since the transfer may still be mined.
 */
import { Errors, evm } from 'mppx';
import { charge as evmChargeServer } from 'mppx/evm/server';
import { getAddress, parseEventLogs, parseSignature, type Address, type Hash, type Hex } from 'viem';
import type { MppCredential } from './credentials.ts';
import { EIP3009_ABI, RECEIPT_TIMEOUT_MS, type MppEvmChain } from './evm-chain.ts';
import { MppProblem } from './problems.ts';

type AuthorizationPayload = evm.AuthorizationPayload;

export interface VerifiedCharge {
  payer: Address;
  amount: bigint;
  payload: AuthorizationPayload;
}

export type ChargeSettlement =
  | { type: 'settled'; txHash: Hash }
  /** Definitely not paid (reverted, or refused before broadcast). */
  | { type: 'failed'; reason: string; txHash?: Hash }
  /** Broadcast, but no receipt in time: it may still be mined. */
  | { type: 'unknown'; txHash: Hash };

/** The challenge `request` for a charge of `amount` base units to the chain's server account. */
export function chargeRequest(chain: MppEvmChain, amount: bigint, description?: string): Record<string, unknown> {
  return {
    amount: amount.toString(),
    currency: getAddress(chain.token.address),
    recipient: chain.walletClient.account.address,
    methodDetails: { chainId: chain.chainId, credentialTypes: ['authorization'], decimals: chain.token.decimals },
    ...(description ? { description } : {}),
  };
}

export class EvmCharge {
  readonly #chain: MppEvmChain;
  readonly #validator: ReturnType<typeof evmChargeServer>;

  constructor(chain: MppEvmChain) {
    this.#chain = chain;
    this.#validator = evmChargeServer({
      currency: chain.token.address,
      chainId: chain.chainId,
      decimals: chain.token.decimals,
      recipient: chain.walletClient.account.address,
      authorization: { name: chain.token.name, version: chain.token.version },
      // Tollgate settles after delivery itself (see EvmCharge.settle); mppx's settle path is unused.
      settle: async () => {
        throw new Error('unused');
      },
    });
  }

  /** Everything short of moving money; throws an `MppProblem` naming what is wrong. */
  async verify(credential: MppCredential, nowMs: number): Promise<VerifiedCharge> {
    const parsed = evm.AuthorizationPayloadSchema.safeParse(credential.payload);
    if (!parsed.success) throw new MppProblem('malformed-credential', 'Malformed credential: the payload is not an EIP-3009 authorization (type, from, to, value, validAfter, validBefore, nonce, signature)');
    const payload = parsed.data;
    const nowSeconds = BigInt(Math.floor(nowMs / 1000));
    if (BigInt(payload.validBefore) <= nowSeconds) throw new MppProblem('payment-expired', 'The authorization has expired (validBefore has passed)', { reason: 'authorization_expired' });
    if (BigInt(payload.validAfter) > nowSeconds) throw new MppProblem('verification-failed', 'The authorization is not valid yet (validAfter is in the future)', { reason: 'authorization_not_yet_valid' });
    try {
      await this.#validator.validate!({ credential: { ...credential, payload } as never, request: credential.challenge.request as never });
    } catch (error) {
      // mppx names what failed; anything else (a signature that is not a curve point) is as invalid.
      const why = error instanceof Errors.PaymentError ? error.message : 'the signature cannot be recovered';
      throw new MppProblem('verification-failed', `Verification failed: ${why}`, { reason: 'invalid_authorization' });
    }
    const payer = getAddress(payload.from);
    const amount = BigInt(payload.value);
    await this.#checkOnChain(payer, amount, payload);
    return { payer, amount, payload };
  }

  async #checkOnChain(payer: Address, amount: bigint, payload: AuthorizationPayload): Promise<void> {
    const { publicClient, token } = this.#chain;
    const [used, balance] = await Promise.all([
      publicClient.readContract({ address: token.address, abi: EIP3009_ABI, functionName: 'authorizationState', args: [payer, payload.nonce as Hex] }),
      publicClient.readContract({ address: token.address, abi: EIP3009_ABI, functionName: 'balanceOf', args: [payer] }),
    ]);
    if (used) throw new MppProblem('invalid-challenge', 'This challenge was already paid (its nonce is used on chain)', { reason: 'nonce_used' });
    if (balance < amount) {
      throw new MppProblem('verification-failed', `The payer's token balance is below the amount (${balance} < ${amount} base units)`, { reason: 'insufficient_balance', required: amount.toString(), balance: balance.toString() });
    }
    try {
      await publicClient.simulateContract({ ...this.#transferCall(payload), account: this.#chain.walletClient.account });
    } catch {
      throw new MppProblem('verification-failed', 'The token refuses this authorization (simulation reverted)', { reason: 'simulation_failed' });
    }
  }

  #transferCall(payload: AuthorizationPayload) {
    const signature = parseSignature(payload.signature as Hex);
    const v = signature.v ?? BigInt(signature.yParity + 27);
    return {
      address: this.#chain.token.address,
      abi: EIP3009_ABI,
      functionName: 'transferWithAuthorization' as const,
      args: [getAddress(payload.from), getAddress(payload.to), BigInt(payload.value), BigInt(payload.validAfter), BigInt(payload.validBefore), payload.nonce as Hex, Number(v), signature.r, signature.s] as const,
    };
  }

  /** Submits the transfer and waits for its receipt; never throws. */
  async settle(verified: VerifiedCharge): Promise<ChargeSettlement> {
    const { walletClient, publicClient, token } = this.#chain;
    let txHash: Hash;
    try {
      txHash = await walletClient.writeContract({ ...this.#transferCall(verified.payload), chain: walletClient.chain ?? null });
    } catch (error) {
      return { type: 'failed', reason: `the transfer was not accepted: ${shortMessage(error)}` };
    }
    let receipt;
    try {
      receipt = await publicClient.waitForTransactionReceipt({ hash: txHash, timeout: this.#chain.receiptTimeoutMs ?? RECEIPT_TIMEOUT_MS });
    } catch {
      return { type: 'unknown', txHash };
    }
    if (receipt.status !== 'success') return { type: 'failed', reason: 'the transfer reverted', txHash };
    const recipient = walletClient.account.address;
    const paid = parseEventLogs({ abi: EIP3009_ABI, eventName: 'Transfer', logs: receipt.logs }).some((log) =>
      getAddress(log.address) === getAddress(token.address) && getAddress(log.args.from) === verified.payer && getAddress(log.args.to) === recipient && log.args.value === verified.amount);
    return paid ? { type: 'settled', txHash } : { type: 'failed', reason: 'the receipt has no matching Transfer log', txHash };
  }
}

function shortMessage(error: unknown): string {
  const message = (error as { shortMessage?: string })?.shortMessage ?? (error instanceof Error ? error.message : String(error));
  return message.split('\n')[0]!.slice(0, 200);
}
