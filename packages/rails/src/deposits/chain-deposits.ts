/**
 * @module deposits/chain-deposits
 * Funding a wallet on chain: the user sends USDC to the deposit address; Tollgate credits the wallet
 * only after reading the transaction's receipt and finding the token's `Transfer` log(s) to that
 * address, and credits each transaction hash at most once — the ledger transfer id is
 * `deposit:<chainId>:<tx hash>`, and transfer ids are unique, so a second claim of the same hash
 * (for the same or another wallet) moves nothing.
 */
import { getAddress, isAddress, parseEventLogs, type Address, type Chain, type Hex, type PublicClient, type Transport } from 'viem';
import { LEDGER, SYSTEM_ACCOUNTS, TRANSFER_CODE, TollgateError, accountId, type Tollgate, type WalletBalance } from '@tollgate/core';
import { EIP3009_ABI } from '../x402/eip3009-abi.ts';

const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

export interface ChainDepositsOptions {
  tg: Tollgate;
  publicClient: PublicClient<Transport, Chain | undefined>;
  /** Where users send funds. */
  depositAddress: Address;
  /** The token contract (6 decimals: one base unit = one micro-unit). */
  asset: Address;
}

export interface Deposit {
  transferId: string;
  /** False when this transaction was credited before (nothing was added twice). */
  applied: boolean;
  amountMicros: bigint;
  from: Address;
  txHash: Hex;
  balance: WalletBalance;
}

export class ChainDeposits {
  readonly #tg: Tollgate;
  readonly #client: PublicClient<Transport, Chain | undefined>;
  readonly #to: Address;
  readonly #asset: Address;

  constructor(options: ChainDepositsOptions) {
    if (!isAddress(options.depositAddress) || !isAddress(options.asset)) throw new Error('deposits: depositAddress and asset must be EVM addresses');
    this.#tg = options.tg;
    this.#client = options.publicClient;
    this.#to = getAddress(options.depositAddress);
    this.#asset = getAddress(options.asset);
  }

  get depositAddress(): Address {
    return this.#to;
  }

  /** Verifies the transaction on chain and credits `ownerId`'s wallet with what it sent to the deposit address. */
  async credit(input: { ownerId: string; txHash: string }): Promise<Deposit> {
    if (!TX_HASH.test(input.txHash)) throw new TollgateError('invalid_request', 'txHash: a transaction hash (0x + 64 hex digits)', { field: 'txHash' });
    const txHash = input.txHash.toLowerCase() as Hex;
    const receipt = await this.#client.getTransactionReceipt({ hash: txHash }).catch(() => undefined);
    if (!receipt) throw new TollgateError('not_found', `no mined transaction ${txHash} on this chain (yet)`, { field: 'txHash' });
    if (receipt.status !== 'success') throw new TollgateError('conflict', `transaction ${txHash} reverted; nothing was deposited`, { field: 'txHash' });
    const transfers = parseEventLogs({ abi: EIP3009_ABI, eventName: 'Transfer', logs: receipt.logs })
      .filter((log) => getAddress(log.address) === this.#asset && log.args.to === this.#to && log.args.value > 0n);
    if (transfers.length === 0) throw new TollgateError('invalid_request', `transaction ${txHash} sends no ${this.#asset} to the deposit address ${this.#to}`, { field: 'txHash' });
    const amountMicros = transfers.reduce((sum, log) => sum + log.args.value, 0n);
    const from = transfers[0]!.args.from;
    const chainId = await this.#client.getChainId();
    const transferId = `deposit:${chainId}:${txHash}`;
    const wallet = accountId.wallet(input.ownerId);
    const [result] = await this.#tg.ledger.createTransfers([{
      id: transferId, debitAccountId: SYSTEM_ACCOUNTS.externalFunding, creditAccountId: wallet, amount: amountMicros,
      ledger: LEDGER.money, code: TRANSFER_CODE.topUp, metadata: { rail: 'chain', txHash, from, network: `eip155:${chainId}`, asset: this.#asset },
    }]);
    const status = result?.status;
    if (status === 'credit_account_not_found') throw new TollgateError('not_found', `ownerId: no wallet for ${input.ownerId}`, { field: 'ownerId' });
    if (status?.startsWith('exists_with_different')) throw new TollgateError('conflict', `transaction ${txHash} was already credited to another wallet`, { field: 'txHash' });
    if (status !== 'created' && status !== 'exists') throw new TollgateError('conflict', `deposit refused by the ledger: ${status}`, { status });
    return { transferId, applied: status === 'created', amountMicros, from, txHash, balance: await this.#tg.wallets.balance(input.ownerId) };
  }
}
