/**
 * @module mpp/channel-store
 * Where the session intent keeps each channel's accounting. A change runs on one channel's state
 * with no other change of that channel in between, and is kept only if it returns (a thrown
 * `MppProblem` changes nothing). Changes are synchronous: the chain is read before, never inside.
 *
 * - `MemoryChannelStore`: one process; lost on restart.
 * - `SqlChannelStore`: table `mpp_channels` (migration 010), a row lock per change: every gateway
 *   process serializes on the channel, and accepted vouchers and what was spent survive a restart.
 */
import type { Db } from '@tollgate/core';
import type { Address, Hex } from 'viem';
import type { MppOffer } from './outcome.ts';

export interface SellerSpend {
  offer: MppOffer;
  micros: bigint;
  calls: number;
}

export interface ChannelState {
  channelId: Hex;
  payer: Address;
  signer: Address;
  deposit: bigint;
  settledOnChain: bigint;
  acceptedCumulative: bigint;
  /**
   * Signed vouchers by cumulative amount (decimal), from `confirmed` up. A failed call gives its
   * price back, so the highest voucher can exceed what was delivered; close settles the smallest
   * voucher that covers `confirmed`, so the payer never pays for a failed call.
   */
  vouchers: Record<string, Hex>;
  /** Reserved for calls delivered or in flight. */
  spent: bigint;
  /** Delivered (never goes down). */
  confirmed: bigint;
  inFlight: number;
  /** When the last reservation was made (ms since the epoch). */
  reservedAtMs?: number;
  /** By seller id. */
  bySeller: Record<string, SellerSpend>;
  closing: boolean;
  /** When the pending close was submitted (ms since the epoch). */
  closingSinceMs?: number;
  /** The block before that close, where its `Closed` event is looked for if the close was not recorded. */
  closingFromBlock?: bigint;
  finalized: boolean;
}

export type ChannelChange<T> = (state: ChannelState | undefined) => { state: ChannelState; result: T };

export interface ChannelStore {
  get(channelId: Hex): Promise<ChannelState | undefined>;
  update<T>(channelId: Hex, change: ChannelChange<T>): Promise<T>;
}

export class MemoryChannelStore implements ChannelStore {
  readonly #channels = new Map<Hex, ChannelState>();

  async get(channelId: Hex): Promise<ChannelState | undefined> {
    const state = this.#channels.get(channelId);
    return state ? structuredClone(state) : undefined;
  }

  async update<T>(channelId: Hex, change: ChannelChange<T>): Promise<T> {
    // Read, change and write with no await between: changes of one channel cannot interleave.
    const current = this.#channels.get(channelId);
    const { state, result } = change(current ? structuredClone(current) : undefined);
    this.#channels.set(channelId, state);
    return result;
  }
}

export class SqlChannelStore implements ChannelStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async get(channelId: Hex): Promise<ChannelState | undefined> {
    const [row] = await this.#db.query<{ state: string | null }>('SELECT state FROM mpp_channels WHERE channel_id = $1', [channelId]);
    return row?.state ? decode(row.state) : undefined;
  }

  async update<T>(channelId: Hex, change: ChannelChange<T>): Promise<T> {
    // The row exists before the transaction locks it, so two first changes cannot both insert.
    await this.#db.query('INSERT INTO mpp_channels (channel_id) VALUES ($1) ON CONFLICT (channel_id) DO NOTHING', [channelId]);
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.query<{ state: string | null }>('SELECT state FROM mpp_channels WHERE channel_id = $1 FOR UPDATE', [channelId]);
      const { state, result } = change(row?.state ? decode(row.state) : undefined);
      await tx.query('UPDATE mpp_channels SET state = $2, updated_at = now() WHERE channel_id = $1', [channelId, encode(state)]);
      return result;
    });
  }
}

/** JSON with bigints kept exact (`{"$bigint":"…"}`). */
function encode(state: ChannelState): string {
  return JSON.stringify(state, (_key, value) => (typeof value === 'bigint' ? { $bigint: value.toString() } : value));
}

function decode(text: string): ChannelState {
  return JSON.parse(text, (_key, value) => (value && typeof value === 'object' && typeof value.$bigint === 'string' ? BigInt(value.$bigint) : value)) as ChannelState;
}
