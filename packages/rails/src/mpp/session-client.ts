/**
 * @module mpp/session-client
 * The payer's side of the evm `session` intent as an mppx client method, so mppx's own client
 * (`Mppx.create({ methods: [evmSession(...)] })`) pays Tollgate sessions: the first challenge opens
 * a channel on chain (approve + open, one deposit), every later one signs a cumulative voucher for
 * one more call, and `close` (context `{ action: 'close' }`) asks the server to settle and refund.
 *
 * mppx 0.11 ships session clients for tempo only; this is the evm counterpart for Tollgate's escrow.
 */
import { Credential, Method, z } from 'mppx';
import { getAddress, toHex, type Account, type Address, type Chain, type Hex, type PublicClient, type Transport, type WalletClient } from 'viem';
import { EIP3009_ABI } from './evm-chain.ts';
import { ESCROW_ABI, VOUCHER_TYPES, channelIdOf, voucherDomain } from './escrow/abi.ts';

const SessionRequest = z.object({
  amount: z.string(),
  currency: z.string(),
  recipient: z.string(),
  suggestedDeposit: z.optional(z.string()),
  methodDetails: z.object({ chainId: z.number(), escrowContract: z.string() }),
});

/** The evm/session method shape (request and payload schemas) shared by client and docs. */
export const evmSessionMethod = Method.from({
  name: 'evm',
  intent: 'session',
  schema: { credential: { payload: z.record(z.string(), z.unknown()) }, request: SessionRequest },
});

export interface EvmSessionClientOptions {
  /** The payer's wallet: it broadcasts approve + open and signs vouchers. */
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  publicClient: PublicClient;
  /** Deposit when opening (default: the challenge's `suggestedDeposit`). */
  depositMicros?: bigint;
  /** Refuse to deposit more than this. */
  maxDepositMicros: bigint;
  /** Refuse a price per call above this. */
  maxAmountMicros: bigint;
}

interface OpenChannel {
  channelId: Hex;
  escrow: Address;
  /** The last voucher's cumulative amount. */
  cumulative: bigint;
}

export function evmSession(options: EvmSessionClientOptions) {
  const channels = new Map<Address, OpenChannel>();
  const account = options.walletClient.account;

  async function sign(channel: OpenChannel, chainId: number): Promise<Hex> {
    return account.signTypedData!({ domain: voucherDomain(chainId, channel.escrow), types: VOUCHER_TYPES, primaryType: 'Voucher', message: { channelId: channel.channelId, cumulativeAmount: channel.cumulative } });
  }

  async function open(request: z.infer<typeof SessionRequest>, escrow: Address): Promise<{ channel: OpenChannel; hash: Hex; salt: Hex }> {
    const deposit = options.depositMicros ?? BigInt(request.suggestedDeposit ?? request.amount);
    if (deposit > options.maxDepositMicros) throw new Error(`session deposit ${deposit} exceeds maxDepositMicros ${options.maxDepositMicros}`);
    const token = getAddress(request.currency);
    const payee = getAddress(request.recipient);
    const salt = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const zero = '0x0000000000000000000000000000000000000000' as const;
    const chain = options.walletClient.chain ?? null;
    const approve = await options.walletClient.writeContract({ address: token, abi: EIP3009_ABI, functionName: 'approve', args: [escrow, deposit], chain });
    await options.publicClient.waitForTransactionReceipt({ hash: approve });
    const hash = await options.walletClient.writeContract({ address: escrow, abi: ESCROW_ABI, functionName: 'open', args: [payee, token, deposit, salt, zero], chain });
    const receipt = await options.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw new Error('opening the payment channel reverted');
    const channelId = channelIdOf({ payer: account.address, payee, token, salt, authorizedSigner: zero, escrow, chainId: request.methodDetails.chainId });
    return { channel: { channelId, escrow, cumulative: 0n }, hash, salt };
  }

  const client = Method.toClient(evmSessionMethod, {
    context: z.object({ action: z.optional(z.enum(['voucher', 'close'])) }),
    async createCredential({ challenge, context }) {
      const request = challenge.request;
      const chainId = request.methodDetails.chainId;
      const escrow = getAddress(request.methodDetails.escrowContract);
      const price = BigInt(request.amount);
      if (price > options.maxAmountMicros) throw new Error(`session price ${price} exceeds maxAmountMicros ${options.maxAmountMicros}`);
      const source = `did:pkh:eip155:${chainId}:${account.address}`;
      let channel = channels.get(escrow);
      let payload: Record<string, unknown>;
      if (context?.action === 'close') {
        if (!channel) throw new Error('no open session channel to close');
        payload = { action: 'close', channelId: channel.channelId, cumulativeAmount: channel.cumulative.toString(), signature: await sign(channel, chainId) };
        channels.delete(escrow);
      } else if (!channel) {
        const opened = await open(request, escrow);
        channel = opened.channel;
        channel.cumulative = price;
        channels.set(escrow, channel);
        payload = { action: 'open', type: 'hash', channelId: channel.channelId, hash: opened.hash, salt: opened.salt, cumulativeAmount: channel.cumulative.toString(), signature: await sign(channel, chainId) };
      } else {
        channel.cumulative += price;
        payload = { action: 'voucher', channelId: channel.channelId, cumulativeAmount: channel.cumulative.toString(), signature: await sign(channel, chainId) };
      }
      return Credential.serialize(Credential.from({ challenge, payload, source }));
    },
  });
  return Object.assign(client, { channel: (escrow: Address) => channels.get(getAddress(escrow)) });
}
