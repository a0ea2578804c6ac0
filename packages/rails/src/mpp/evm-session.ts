/**
 * @module mpp/evm-session
 * The `session` intent of the `evm` method (draft-evm-session-00) on Tollgate's own escrow
 * (`escrow/ChannelEscrow.sol`): the payer opens a channel with a deposit once (client-broadcast,
 * `type:"hash"`), then pays each call with a cumulative EIP-712 voucher. The server keeps, per
 * channel, the highest voucher accepted and what was spent; a call is charged from that difference
 * with no transaction, and the channel is settled on chain when the payer sends `close`.
 *
 * Vouchers of one channel are accepted and charged one at a time (a per-channel lock), and the
 * charge is reserved before the upstream runs and returned if the upstream fails, so concurrent
 * calls can never spend one voucher twice. State lives in this process; a channel this process has
 * not seen (after a restart) is reloaded from the escrow with everything already settled as spent.
 */
import { z } from 'mppx';
import { getAddress, hexToBigInt, parseEventLogs, parseSignature, recoverTypedDataAddress, type Address, type Hash, type Hex } from 'viem';
import type { MppCredential } from './credentials.ts';
import { ESCROW_ABI, UINT128_MAX, VOUCHER_TYPES, voucherDomain } from './escrow/abi.ts';
import { RECEIPT_TIMEOUT_MS, type MppEvmChain } from './evm-chain.ts';
import type { MppOffer, MppReceipt } from './outcome.ts';
import { MppProblem } from './problems.ts';

const bytes32 = () => z.string().check(z.regex(/^0x[0-9a-fA-F]{64}$/, 'a 0x-prefixed 32-byte hex'));
const signature = () => z.string().check(z.regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte signature'));
const amount = () => z.string().check(z.regex(/^\d{1,39}$/, 'a decimal integer'));

const OpenPayload = z.object({
  action: z.literal('open'), type: z.literal('hash'), channelId: bytes32(), hash: bytes32(), salt: bytes32(),
  cumulativeAmount: amount(), signature: signature(), authorizedSigner: z.optional(z.string().check(z.regex(/^0x[0-9a-fA-F]{40}$/))),
});
const VoucherPayload = z.object({ action: z.enum(['voucher', 'close']), channelId: bytes32(), cumulativeAmount: amount(), signature: signature() });

/** Half the secp256k1 order: signatures above it are malleable twins and refused, as on chain. */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

interface SellerSpend {
  offer: MppOffer;
  micros: bigint;
  calls: number;
}

interface ChannelState {
  channelId: Hex;
  payer: Address;
  signer: Address;
  deposit: bigint;
  settledOnChain: bigint;
  acceptedCumulative: bigint;
  /**
   * Signed vouchers by cumulative amount, from `confirmed` up. A call that fails gives its price
   * back, so the highest voucher can exceed what was delivered; close settles the smallest voucher
   * that covers `confirmed`, so the payer never pays for a failed call.
   */
  vouchers: Map<bigint, Hex>;
  /** Reserved for calls delivered or in flight. */
  spent: bigint;
  /** Kept: the calls delivered (never goes down). */
  confirmed: bigint;
  inFlight: number;
  bySeller: Map<string, SellerSpend>;
  closing: boolean;
  finalized: boolean;
}

export interface SessionSettlement {
  channelId: Hex;
  txHash: Hash;
  payer: Address;
  /** What this settlement moved to the payee, split by the seller whose calls earned it. */
  bySeller: { offer: MppOffer; micros: bigint; calls: number }[];
  refundedMicros: bigint;
}

export interface EvmSessionsOptions {
  chain: MppEvmChain;
  escrow: Address;
  /** Smallest increase between two vouchers, in base units (default 0: any increase). */
  minVoucherDelta?: bigint;
  /** Suggested in challenges: this many calls' worth (default 100). */
  suggestedDepositCalls?: bigint;
}

/** Reserved charge of one call, to keep (the upstream succeeded) or give back. */
export interface SessionCharge {
  channelId: Hex;
  keep(): MppReceipt;
  giveBack(): void;
}

export class EvmSessions {
  readonly #chain: MppEvmChain;
  readonly #escrow: Address;
  readonly #minDelta: bigint;
  readonly #suggestedCalls: bigint;
  readonly #channels = new Map<Hex, ChannelState>();
  readonly #locks = new Map<Hex, Promise<unknown>>();

  constructor(options: EvmSessionsOptions) {
    this.#chain = options.chain;
    this.#escrow = getAddress(options.escrow);
    this.#minDelta = options.minVoucherDelta ?? 0n;
    this.#suggestedCalls = options.suggestedDepositCalls ?? 100n;
  }

  get escrow(): Address {
    return this.#escrow;
  }

  /** The challenge `request` of a session priced at `amount` base units per call. */
  request(amount: bigint, description?: string): Record<string, unknown> {
    return {
      amount: amount.toString(),
      unitType: 'request',
      suggestedDeposit: (amount * this.#suggestedCalls).toString(),
      currency: getAddress(this.#chain.token.address),
      recipient: this.#chain.walletClient.account.address,
      methodDetails: { chainId: this.#chain.chainId, escrowContract: this.#escrow, credentialTypes: ['hash'], minVoucherDelta: this.#minDelta.toString() },
      ...(description ? { description } : {}),
    };
  }

  /** Whether the credential closes its channel (then nothing is delivered). */
  isClose(credential: MppCredential): boolean {
    return credential.payload.action === 'close';
  }

  /**
   * `open` or `voucher`: accepts the voucher and reserves this call's price from the channel.
   * Throws an `MppProblem` when the voucher is bad or does not cover the call.
   */
  async reserve(credential: MppCredential, offer: MppOffer, challengeId: string): Promise<SessionCharge> {
    const open = credential.payload.action === 'open';
    const parsed = open ? OpenPayload.safeParse(credential.payload) : VoucherPayload.safeParse(credential.payload);
    if (!parsed.success || parsed.data.action === 'close') throw malformed();
    const payload = parsed.data;
    const channelId = payload.channelId.toLowerCase() as Hex;
    const cumulative = BigInt(payload.cumulativeAmount);
    if (open && !this.#channels.has(channelId)) await this.#confirmOpen(payload as z.infer<typeof OpenPayload>, credential.source);
    return this.#serialized(channelId, async () => {
      const state = await this.#state(channelId);
      await this.#accept(state, cumulative, payload.signature as Hex);
      const available = state.acceptedCumulative - state.spent;
      if (available < offer.amountMicros) {
        throw new MppProblem('session/insufficient-balance', `The channel's vouchers cover ${available} more base units; this call costs ${offer.amountMicros}`, {
          channelId, acceptedCumulative: state.acceptedCumulative.toString(), spent: state.spent.toString(),
          requiredCumulative: (state.spent + offer.amountMicros).toString(), deposit: state.deposit.toString(),
        });
      }
      state.spent += offer.amountMicros;
      state.inFlight += 1;
      return this.#charge(state, offer, challengeId);
    });
  }

  #charge(state: ChannelState, offer: MppOffer, challengeId: string): SessionCharge {
    let done = false;
    return {
      channelId: state.channelId,
      keep: () => {
        if (done) throw new Error('a session charge resolves once');
        done = true;
        state.inFlight -= 1;
        state.confirmed += offer.amountMicros;
        for (const amount of state.vouchers.keys()) if (amount < state.confirmed) state.vouchers.delete(amount);
        const key = offer.sellerId;
        const seller = state.bySeller.get(key) ?? { offer, micros: 0n, calls: 0 };
        seller.micros += offer.amountMicros;
        seller.calls += 1;
        state.bySeller.set(key, seller);
        return this.#receipt(state, challengeId, { units: 1 });
      },
      giveBack: () => {
        if (done) return;
        done = true;
        state.inFlight -= 1;
        state.spent -= offer.amountMicros;
      },
    };
  }

  /** `close`: settles the channel on chain with the final voucher and refunds the payer the rest. */
  async close(credential: MppCredential, offer: MppOffer, challengeId: string): Promise<{ receipt: MppReceipt; settlement: SessionSettlement | undefined }> {
    const parsed = VoucherPayload.safeParse(credential.payload);
    if (!parsed.success || parsed.data.action !== 'close') throw malformed();
    const channelId = parsed.data.channelId.toLowerCase() as Hex;
    return this.#serialized(channelId, async () => {
      const state = await this.#state(channelId);
      await this.#accept(state, BigInt(parsed.data.cumulativeAmount), parsed.data.signature as Hex);
      if (state.inFlight > 0) throw new MppProblem('session/transaction-reverted', 'Calls on this channel are still running; close after they finish', { channelId, reason: 'calls_in_flight' });
      const final = this.#finalVoucher(state);
      state.closing = true;
      let txHash: Hash;
      try {
        txHash = await this.#submitClose(state, final.amount, final.signature);
      } finally {
        state.closing = false;
      }
      state.finalized = true;
      const settlement = this.#settlement(state, final.amount, txHash, offer);
      state.settledOnChain = final.amount;
      return { receipt: this.#receipt(state, challengeId, { txHash }), settlement };
    });
  }

  /** The smallest signed voucher covering every delivered call (none needed when nothing new was delivered). */
  #finalVoucher(state: ChannelState): { amount: bigint; signature: Hex } {
    if (state.confirmed <= state.settledOnChain) return { amount: state.settledOnChain, signature: '0x' };
    let best: bigint | undefined;
    for (const amount of state.vouchers.keys()) if (amount >= state.confirmed && (best === undefined || amount < best)) best = amount;
    // `confirmed` never exceeds an accepted voucher, and vouchers at or above it are kept, so one exists.
    if (best === undefined) throw new Error(`channel ${state.channelId}: no voucher covers ${state.confirmed}`);
    return { amount: best, signature: state.vouchers.get(best)! };
  }

  async #submitClose(state: ChannelState, final: bigint, signature: Hex): Promise<Hash> {
    const { walletClient, publicClient } = this.#chain;
    let hash: Hash;
    try {
      hash = await walletClient.writeContract({
        address: this.#escrow, abi: ESCROW_ABI, functionName: 'close',
        args: [state.channelId, final, signature],
        chain: walletClient.chain ?? null,
      });
    } catch (error) {
      throw new MppProblem('session/transaction-reverted', `The escrow refused to close the channel: ${shortMessage(error)}`, { channelId: state.channelId });
    }
    const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: this.#chain.receiptTimeoutMs ?? RECEIPT_TIMEOUT_MS }).catch(() => undefined);
    if (!receipt) throw new MppProblem('session/transaction-reverted', 'The close transaction was sent but not mined in time; retry close', { channelId: state.channelId, txHash: hash, reason: 'receipt_timeout' });
    if (receipt.status !== 'success') throw new MppProblem('session/transaction-reverted', 'The close transaction reverted', { channelId: state.channelId, txHash: hash });
    return hash;
  }

  /** Splits what the close moved by seller; anything authorized beyond the calls goes to the closing offer's seller. */
  #settlement(state: ChannelState, final: bigint, txHash: Hash, offer: MppOffer): SessionSettlement | undefined {
    const moved = final - state.settledOnChain;
    const refundedMicros = state.deposit - final;
    if (moved <= 0n) return { channelId: state.channelId, txHash, payer: state.payer, bySeller: [], refundedMicros };
    const bySeller = [...state.bySeller.values()].map((s) => ({ ...s }));
    const attributed = bySeller.reduce((sum, s) => sum + s.micros, 0n);
    if (moved > attributed) {
      const closing = bySeller.find((s) => s.offer.sellerId === offer.sellerId);
      if (closing) closing.micros += moved - attributed;
      else bySeller.push({ offer, micros: moved - attributed, calls: 0 });
    }
    return { channelId: state.channelId, txHash, payer: state.payer, bySeller: bySeller.filter((s) => s.micros > 0n), refundedMicros };
  }

  /** A channel opened by `hash`: the transaction opened exactly this channel on our escrow, for us. */
  async #confirmOpen(payload: z.infer<typeof OpenPayload>, source: string | undefined): Promise<void> {
    const receipt = await this.#chain.publicClient.getTransactionReceipt({ hash: payload.hash as Hash }).catch(() => undefined);
    if (!receipt) throw new MppProblem('session/channel-not-found', 'The open transaction is not on chain (not mined, or another chain)', { channelId: payload.channelId });
    if (receipt.status !== 'success') throw new MppProblem('session/transaction-reverted', 'The open transaction reverted', { channelId: payload.channelId });
    const opened = parseEventLogs({ abi: ESCROW_ABI, eventName: 'ChannelOpened', logs: receipt.logs })
      .find((log) => getAddress(log.address) === this.#escrow && log.args.channelId.toLowerCase() === payload.channelId.toLowerCase());
    if (!opened) throw new MppProblem('verification-failed', 'The transaction did not open this channel on this escrow', { reason: 'not_an_open', channelId: payload.channelId });
    if (source !== undefined && source.toLowerCase() !== `did:pkh:eip155:${this.#chain.chainId}:${opened.args.payer}`.toLowerCase()) {
      throw new MppProblem('verification-failed', 'The credential source is not the channel payer', { reason: 'source_mismatch' });
    }
  }

  async #state(channelId: Hex): Promise<ChannelState> {
    const known = this.#channels.get(channelId);
    if (known?.finalized) throw new MppProblem('session/channel-finalized', 'The channel is closed', { channelId });
    const onChain = await this.#read(channelId);
    if (known) {
      // A top-up raises the deposit; a pending forced close stops new vouchers (spec §"Voucher Verification").
      known.deposit = onChain.deposit;
      if (onChain.closeRequestedAt !== 0n) throw new MppProblem('session/channel-finalized', 'The payer asked to close this channel; it takes no more vouchers', { channelId, reason: 'close_requested' });
      return known;
    }
    if (onChain.closeRequestedAt !== 0n) throw new MppProblem('session/channel-finalized', 'The payer asked to close this channel; it takes no more vouchers', { channelId, reason: 'close_requested' });
    const state: ChannelState = {
      channelId, payer: onChain.payer, signer: onChain.signer, deposit: onChain.deposit, settledOnChain: onChain.settled,
      acceptedCumulative: onChain.settled, vouchers: new Map(), spent: onChain.settled, confirmed: onChain.settled, inFlight: 0, bySeller: new Map(), closing: false, finalized: false,
    };
    this.#channels.set(channelId, state);
    return state;
  }

  async #read(channelId: Hex) {
    const [payer, payee, token, authorizedSigner, deposit, settled, closeRequestedAt, finalized] = await this.#chain.publicClient.readContract({
      address: this.#escrow, abi: ESCROW_ABI, functionName: 'channels', args: [channelId],
    });
    if (hexToBigInt(payer) === 0n) throw new MppProblem('session/channel-not-found', 'No channel with this id on the escrow', { channelId });
    if (finalized) throw new MppProblem('session/channel-finalized', 'The channel is closed', { channelId });
    if (getAddress(payee) !== this.#chain.walletClient.account.address || getAddress(token) !== getAddress(this.#chain.token.address)) {
      throw new MppProblem('verification-failed', 'The channel pays another payee or token', { reason: 'wrong_channel', channelId });
    }
    return { payer: getAddress(payer), signer: getAddress(hexToBigInt(authorizedSigner) === 0n ? payer : authorizedSigner), deposit, settled, closeRequestedAt: BigInt(closeRequestedAt) };
  }

  /** Verifies the voucher's signer first (spec: before any idempotent short-cut), then raises the accepted amount. */
  async #accept(state: ChannelState, cumulative: bigint, voucherSignature: Hex): Promise<void> {
    if (state.closing) throw new MppProblem('session/channel-finalized', 'The channel is closing', { channelId: state.channelId, reason: 'closing' });
    if (cumulative > UINT128_MAX) throw new MppProblem('session/amount-exceeds-deposit', 'cumulativeAmount exceeds uint128', { channelId: state.channelId });
    let signer: Address;
    try {
      if (hexToBigInt(parseSignature(voucherSignature).s) > HALF_ORDER) throw new Error('high s');
      signer = await recoverTypedDataAddress({
        domain: voucherDomain(this.#chain.chainId, this.#escrow), types: VOUCHER_TYPES, primaryType: 'Voucher',
        message: { channelId: state.channelId, cumulativeAmount: cumulative }, signature: voucherSignature,
      });
    } catch {
      throw new MppProblem('session/invalid-signature', 'The voucher signature could not be verified (or is not canonical: high s)', { channelId: state.channelId });
    }
    if (signer !== state.signer) throw new MppProblem('session/signer-mismatch', 'The voucher is not signed by the channel payer or its authorized signer', { channelId: state.channelId });
    if (cumulative <= state.acceptedCumulative) {
      if (cumulative >= state.confirmed) state.vouchers.set(cumulative, voucherSignature);
      return;
    }
    if (cumulative - state.acceptedCumulative < this.#minDelta) throw new MppProblem('session/delta-too-small', `Vouchers must rise by at least ${this.#minDelta}`, { channelId: state.channelId });
    if (cumulative > state.deposit) throw new MppProblem('session/amount-exceeds-deposit', `The voucher (${cumulative}) exceeds the deposit (${state.deposit}); top up first`, { channelId: state.channelId, deposit: state.deposit.toString() });
    state.acceptedCumulative = cumulative;
    state.vouchers.set(cumulative, voucherSignature);
  }

  #receipt(state: ChannelState, challengeId: string, extra: { units?: number; txHash?: Hash }): MppReceipt {
    return {
      method: 'evm', intent: 'session', status: 'success', timestamp: new Date().toISOString(),
      reference: state.channelId, challengeId, channelId: state.channelId, chainId: this.#chain.chainId,
      acceptedCumulative: state.acceptedCumulative.toString(), spent: state.spent.toString(),
      ...(extra.units !== undefined ? { units: extra.units } : {}), ...(extra.txHash ? { txHash: extra.txHash } : {}),
    };
  }

  /** Runs `task` after every earlier task of the same channel. */
  async #serialized<T>(channelId: Hex, task: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(channelId) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(task);
    this.#locks.set(channelId, run);
    try {
      return await run;
    } finally {
      if (this.#locks.get(channelId) === run) this.#locks.delete(channelId);
    }
  }
}

function malformed(): MppProblem {
  return new MppProblem('malformed-credential', 'Malformed credential: a session payload is {action:"open",type:"hash",channelId,hash,salt,cumulativeAmount,signature} or {action:"voucher"|"close",channelId,cumulativeAmount,signature}');
}

function shortMessage(error: unknown): string {
  const message = (error as { shortMessage?: string })?.shortMessage ?? (error instanceof Error ? error.message : String(error));
  return message.split('\n')[0]!.slice(0, 200);
}
