/**
 * @module mpp/evm-session
 * The `session` intent of the `evm` method (draft-evm-session-00) on Tollgate's own escrow
 * (`escrow/ChannelEscrow.sol`): the payer opens a channel with a deposit once (client-broadcast,
 * `type:"hash"`), then pays each call with a cumulative EIP-712 voucher. The server keeps, per
 * channel, the highest voucher accepted and what was spent; a call is charged from that difference
 * with no transaction, and the channel is settled on chain when the payer sends `close`.
 *
 * The chain is read and the voucher's signer checked first; then one change of the channel's state
 * (`channel-store.ts`, serialized per channel, across processes with the SQL store) accepts the
 * voucher and reserves the call's price before the upstream runs. The reservation is kept when the
 * upstream succeeds and given back when it fails, so concurrent calls never spend one voucher twice
 * and a failed call is never paid.
 */
import { z } from 'mppx';
import { getAddress, hexToBigInt, parseEventLogs, parseSignature, recoverTypedDataAddress, type Address, type Hash, type Hex } from 'viem';
import { MemoryChannelStore, type ChannelState, type ChannelStore, type SellerSpend } from './channel-store.ts';
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

/** Reservations older than this (far past any upstream call's limit) are taken as left by a dead process. */
export const STALE_RESERVATION_MS = 30 * 60_000;

/** A close still unrecorded after this long is taken as abandoned (its process died) and may be retried. */
export const CLOSE_RETRY_AFTER_MS = 2 * RECEIPT_TIMEOUT_MS;

/** Half the secp256k1 order: signatures above it are malleable twins and refused, as on chain. */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** The escrow's record of a channel, as read before each change. */
interface OnChain {
  payer: Address;
  signer: Address;
  deposit: bigint;
  settled: bigint;
  closeRequested: boolean;
}

interface Voucher {
  channelId: Hex;
  cumulative: bigint;
  signature: Hex;
}

export interface SessionSettlement {
  channelId: Hex;
  txHash: Hash;
  payer: Address;
  /** What this settlement moved to the payee, split by the seller whose calls earned it. */
  bySeller: SellerSpend[];
  refundedMicros: bigint;
}

export interface EvmSessionsOptions {
  chain: MppEvmChain;
  escrow: Address;
  /** Where channel accounting is kept (default: in memory, this process only). */
  store?: ChannelStore;
  /** Smallest increase between two vouchers, in base units (default 0: any increase). */
  minVoucherDelta?: bigint;
  /** Suggested in challenges: this many calls' worth (default 100). */
  suggestedDepositCalls?: bigint;
}

/** Reserved charge of one call, to keep (the upstream succeeded) or give back. */
export interface SessionCharge {
  channelId: Hex;
  keep(): Promise<MppReceipt>;
  giveBack(): Promise<void>;
}

export class EvmSessions {
  readonly #chain: MppEvmChain;
  readonly #escrow: Address;
  readonly #store: ChannelStore;
  readonly #minDelta: bigint;
  readonly #suggestedCalls: bigint;

  constructor(options: EvmSessionsOptions) {
    this.#chain = options.chain;
    this.#escrow = getAddress(options.escrow);
    this.#store = options.store ?? new MemoryChannelStore();
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
    const voucher = voucherOf(parsed.data);
    const { channelId } = voucher;
    if (open && !(await this.#store.get(channelId))) await this.#confirmOpen(parsed.data as z.infer<typeof OpenPayload>, credential.source);
    const onChain = await this.#read(channelId, { closing: false });
    await this.#checkSigner(voucher, onChain.signer);
    const price = offer.amountMicros;
    await this.#store.update(channelId, (stored) => {
      const state = this.#current(stored, channelId, onChain);
      this.#accept(state, voucher);
      const available = state.acceptedCumulative - state.spent;
      if (available < price) {
        throw new MppProblem('session/insufficient-balance', `The channel's vouchers cover ${available} more base units; this call costs ${price}`, {
          channelId, acceptedCumulative: state.acceptedCumulative.toString(), spent: state.spent.toString(),
          requiredCumulative: (state.spent + price).toString(), deposit: state.deposit.toString(),
        });
      }
      state.spent += price;
      state.inFlight += 1;
      state.reservedAtMs = Date.now();
      return { state, result: undefined };
    });
    return this.#reservation(channelId, offer, challengeId);
  }

  #reservation(channelId: Hex, offer: MppOffer, challengeId: string): SessionCharge {
    const price = offer.amountMicros;
    let done = false;
    const once = () => {
      if (done) throw new Error('a session charge resolves once');
      done = true;
    };
    return {
      channelId,
      keep: async () => {
        once();
        return this.#store.update(channelId, (stored) => {
          const state = stored!;
          // Clamped: a reservation dropped as stale (`STALE_RESERVATION_MS`) may still resolve.
          state.inFlight = Math.max(0, state.inFlight - 1);
          state.confirmed += price;
          if (state.spent < state.confirmed) state.spent = state.confirmed;
          for (const key of Object.keys(state.vouchers)) if (BigInt(key) < state.confirmed) delete state.vouchers[key];
          const seller = state.bySeller[offer.sellerId] ?? { offer, micros: 0n, calls: 0 };
          seller.micros += price;
          seller.calls += 1;
          state.bySeller[offer.sellerId] = seller;
          return { state, result: this.#receipt(state, challengeId, { units: 1 }) };
        });
      },
      giveBack: async () => {
        once();
        await this.#store.update(channelId, (stored) => {
          const state = stored!;
          state.inFlight = Math.max(0, state.inFlight - 1);
          state.spent = state.spent - price < state.confirmed ? state.confirmed : state.spent - price;
          return { state, result: undefined };
        });
      },
    };
  }

  /** `close`: settles the channel on chain with the final voucher and refunds the payer the rest. */
  async close(credential: MppCredential, offer: MppOffer, challengeId: string): Promise<{ receipt: MppReceipt; settlement: SessionSettlement | undefined }> {
    const parsed = VoucherPayload.safeParse(credential.payload);
    if (!parsed.success || parsed.data.action !== 'close') throw malformed();
    const voucher = voucherOf(parsed.data);
    const { channelId } = voucher;
    const stored = await this.#store.get(channelId);
    if (stored?.closing && !stored.finalized) {
      // A close whose process died before recording it: if it landed, record it now from the escrow's event.
      await this.#checkSigner(voucher, stored.signer);
      const landed = await this.#closedOnChain(channelId, stored.closingFromBlock);
      if (landed) return this.#recordClose(channelId, landed.settled, landed.txHash, offer, challengeId);
    }
    // The payee may still close while the payer's forced close is pending (spec §"Forced Close").
    const onChain = await this.#read(channelId, { closing: true });
    await this.#checkSigner(voucher, onChain.signer);
    const fromBlock = await this.#chain.publicClient.getBlockNumber();
    const final = await this.#store.update(channelId, (stored) => {
      // A close left half-done long ago (its process died before recording it) may be tried again.
      const state = this.#current(stored, channelId, onChain, { retryClose: true });
      this.#accept(state, voucher);
      if (state.inFlight > 0) throw new MppProblem('session/transaction-reverted', 'Calls on this channel are still running; close after they finish', { channelId, reason: 'calls_in_flight' });
      state.closing = true;
      state.closingSinceMs = Date.now();
      state.closingFromBlock = fromBlock;
      return { state, result: finalVoucher(state) };
    });
    let txHash: Hash;
    try {
      txHash = await this.#submitClose(channelId, final.amount, final.signature);
    } catch (error) {
      await this.#store.update(channelId, (stored) => ({ state: { ...stored!, closing: false }, result: undefined }));
      throw error;
    }
    return this.#recordClose(channelId, final.amount, txHash, offer, challengeId);
  }

  #recordClose(channelId: Hex, settled: bigint, txHash: Hash, offer: MppOffer, challengeId: string): Promise<{ receipt: MppReceipt; settlement: SessionSettlement }> {
    return this.#store.update(channelId, (stored) => {
      const state = stored!;
      const settlement = settlementOf(state, settled, txHash, offer);
      Object.assign(state, { finalized: true, closing: false, settledOnChain: settled });
      return { state, result: { receipt: this.#receipt(state, challengeId, { txHash }), settlement } };
    });
  }

  /** The escrow's `Closed` event of this channel, if there is one. */
  async #closedOnChain(channelId: Hex, fromBlock: bigint | undefined): Promise<{ settled: bigint; txHash: Hash } | undefined> {
    const logs = await this.#chain.publicClient.getContractEvents({ address: this.#escrow, abi: ESCROW_ABI, eventName: 'Closed', args: { channelId }, fromBlock: fromBlock ?? 0n });
    const log = logs[0];
    return log?.args.settled !== undefined ? { settled: log.args.settled, txHash: log.transactionHash } : undefined;
  }

  async #submitClose(channelId: Hex, final: bigint, voucherSignature: Hex): Promise<Hash> {
    const { walletClient, publicClient } = this.#chain;
    let hash: Hash;
    try {
      hash = await walletClient.writeContract({ address: this.#escrow, abi: ESCROW_ABI, functionName: 'close', args: [channelId, final, voucherSignature], chain: walletClient.chain ?? null });
    } catch (error) {
      throw new MppProblem('session/transaction-reverted', `The escrow refused to close the channel: ${shortMessage(error)}`, { channelId });
    }
    const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: this.#chain.receiptTimeoutMs ?? RECEIPT_TIMEOUT_MS }).catch(() => undefined);
    if (!receipt) throw new MppProblem('session/transaction-reverted', 'The close transaction was sent but not mined in time; retry close', { channelId, txHash: hash, reason: 'receipt_timeout' });
    if (receipt.status !== 'success') throw new MppProblem('session/transaction-reverted', 'The close transaction reverted', { channelId, txHash: hash });
    return hash;
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

  /** The escrow's record; a channel that is gone, closed, ours not, or (for vouchers) being force-closed is refused. */
  async #read(channelId: Hex, options: { closing: boolean }): Promise<OnChain> {
    const [payer, payee, token, authorizedSigner, deposit, settled, closeRequestedAt, finalized] = await this.#chain.publicClient.readContract({
      address: this.#escrow, abi: ESCROW_ABI, functionName: 'channels', args: [channelId],
    });
    if (hexToBigInt(payer) === 0n) throw new MppProblem('session/channel-not-found', 'No channel with this id on the escrow', { channelId });
    if (finalized) throw new MppProblem('session/channel-finalized', 'The channel is closed', { channelId });
    if (getAddress(payee) !== this.#chain.walletClient.account.address || getAddress(token) !== getAddress(this.#chain.token.address)) {
      throw new MppProblem('verification-failed', 'The channel pays another payee or token', { reason: 'wrong_channel', channelId });
    }
    const closeRequested = BigInt(closeRequestedAt) !== 0n;
    // spec §"Voucher Verification": a pending forced close stops new vouchers.
    if (closeRequested && !options.closing) throw new MppProblem('session/channel-finalized', 'The payer asked to close this channel; it takes no more vouchers', { channelId, reason: 'close_requested' });
    return { payer: getAddress(payer), signer: getAddress(hexToBigInt(authorizedSigner) === 0n ? payer : authorizedSigner), deposit, settled, closeRequested };
  }

  /** The signer is checked before anything else, idempotent short-cuts included (spec §"Voucher Verification"). */
  async #checkSigner(voucher: Voucher, expected: Address): Promise<void> {
    let signer: Address;
    try {
      if (hexToBigInt(parseSignature(voucher.signature).s) > HALF_ORDER) throw new Error('high s');
      signer = await recoverTypedDataAddress({
        domain: voucherDomain(this.#chain.chainId, this.#escrow), types: VOUCHER_TYPES, primaryType: 'Voucher',
        message: { channelId: voucher.channelId, cumulativeAmount: voucher.cumulative }, signature: voucher.signature,
      });
    } catch {
      throw new MppProblem('session/invalid-signature', 'The voucher signature could not be verified (or is not canonical: high s)', { channelId: voucher.channelId });
    }
    if (signer !== expected) throw new MppProblem('session/signer-mismatch', 'The voucher is not signed by the channel payer or its authorized signer', { channelId: voucher.channelId });
  }

  /** The stored state, created from the escrow's record the first time (everything settled counts as spent). */
  #current(stored: ChannelState | undefined, channelId: Hex, onChain: OnChain, options: { retryClose?: boolean } = {}): ChannelState {
    if (stored?.finalized) throw new MppProblem('session/channel-finalized', 'The channel is closed', { channelId });
    const stale = stored?.closingSinceMs !== undefined && Date.now() - stored.closingSinceMs > CLOSE_RETRY_AFTER_MS;
    if (stored?.closing && !(options.retryClose && stale)) throw new MppProblem('session/channel-finalized', 'The channel is closing', { channelId, reason: 'closing' });
    const state: ChannelState = stored ?? {
      channelId, payer: onChain.payer, signer: onChain.signer, deposit: onChain.deposit, settledOnChain: onChain.settled,
      acceptedCumulative: onChain.settled, vouchers: {}, spent: onChain.settled, confirmed: onChain.settled, inFlight: 0, bySeller: {}, closing: false, finalized: false,
    };
    // A top-up raises the deposit.
    state.deposit = onChain.deposit;
    // Reservations whose process died never resolve; long past any call's duration they are dropped.
    if (state.inFlight > 0 && state.reservedAtMs !== undefined && Date.now() - state.reservedAtMs > STALE_RESERVATION_MS) {
      state.inFlight = 0;
      state.spent = state.confirmed;
    }
    return state;
  }

  /** Raises the accepted amount (a voucher at or below it changes nothing but is kept for close). */
  #accept(state: ChannelState, voucher: Voucher): void {
    const { cumulative, channelId } = voucher;
    if (cumulative > UINT128_MAX) throw new MppProblem('session/amount-exceeds-deposit', 'cumulativeAmount exceeds uint128', { channelId });
    if (cumulative <= state.acceptedCumulative) {
      if (cumulative >= state.confirmed) state.vouchers[cumulative.toString()] = voucher.signature;
      return;
    }
    if (cumulative - state.acceptedCumulative < this.#minDelta) throw new MppProblem('session/delta-too-small', `Vouchers must rise by at least ${this.#minDelta}`, { channelId });
    if (cumulative > state.deposit) throw new MppProblem('session/amount-exceeds-deposit', `The voucher (${cumulative}) exceeds the deposit (${state.deposit}); top up first`, { channelId, deposit: state.deposit.toString() });
    state.acceptedCumulative = cumulative;
    state.vouchers[cumulative.toString()] = voucher.signature;
  }

  #receipt(state: ChannelState, challengeId: string, extra: { units?: number; txHash?: Hash }): MppReceipt {
    return {
      method: 'evm', intent: 'session', status: 'success', timestamp: new Date().toISOString(),
      reference: state.channelId, challengeId, channelId: state.channelId, chainId: this.#chain.chainId,
      acceptedCumulative: state.acceptedCumulative.toString(), spent: state.spent.toString(),
      ...(extra.units !== undefined ? { units: extra.units } : {}), ...(extra.txHash ? { txHash: extra.txHash } : {}),
    };
  }
}

function voucherOf(payload: { channelId: string; cumulativeAmount: string; signature: string }): Voucher {
  return { channelId: payload.channelId.toLowerCase() as Hex, cumulative: BigInt(payload.cumulativeAmount), signature: payload.signature as Hex };
}

/** The smallest signed voucher covering every delivered call (none needed when nothing new was delivered). */
function finalVoucher(state: ChannelState): { amount: bigint; signature: Hex } {
  if (state.confirmed <= state.settledOnChain) return { amount: state.settledOnChain, signature: '0x' };
  const covering = Object.keys(state.vouchers).map(BigInt).filter((amount) => amount >= state.confirmed);
  // `confirmed` never exceeds an accepted voucher, and vouchers at or above it are kept, so one exists.
  if (covering.length === 0) throw new Error(`channel ${state.channelId}: no voucher covers ${state.confirmed}`);
  const best = covering.reduce((a, b) => (a < b ? a : b));
  return { amount: best, signature: state.vouchers[best.toString()]! };
}

/** Splits what the close moved by seller; anything authorized beyond the calls goes to the closing offer's seller. */
function settlementOf(state: ChannelState, final: bigint, txHash: Hash, offer: MppOffer): SessionSettlement {
  const moved = final - state.settledOnChain;
  const refundedMicros = state.deposit - final;
  if (moved <= 0n) return { channelId: state.channelId, txHash, payer: state.payer, bySeller: [], refundedMicros };
  const bySeller = Object.values(state.bySeller).map((s) => ({ ...s }));
  const attributed = bySeller.reduce((sum, s) => sum + s.micros, 0n);
  if (moved > attributed) {
    const closing = bySeller.find((s) => s.offer.sellerId === offer.sellerId);
    if (closing) closing.micros += moved - attributed;
    else bySeller.push({ offer, micros: moved - attributed, calls: 0 });
  }
  return { channelId: state.channelId, txHash, payer: state.payer, bySeller: bySeller.filter((s) => s.micros > 0n), refundedMicros };
}

function malformed(): MppProblem {
  return new MppProblem('malformed-credential', 'Malformed credential: a session payload is {action:"open",type:"hash",channelId,hash,salt,cumulativeAmount,signature} or {action:"voucher"|"close",channelId,cumulativeAmount,signature}');
}

function shortMessage(error: unknown): string {
  const message = (error as { shortMessage?: string })?.shortMessage ?? (error instanceof Error ? error.message : String(error));
  return message.split('\n')[0]!.slice(0, 200);
}
