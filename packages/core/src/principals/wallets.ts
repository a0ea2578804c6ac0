/**
 * @module principals/wallets
 * Wallets are ledger accounts of users and orgs. Funding is a transfer from the external funding
 * account with the caller's reference as its idempotency key, never an edit of a balance.
 */
import { TollgateError } from '../errors.ts';
import { LEDGER, type Ledger, type TransferPage } from '../ledger/types.ts';
import { accountId, SYSTEM_ACCOUNTS, TRANSFER_CODE } from '../limits/accounts.ts';
import { parseMicros } from '../money.ts';
import { parseInput } from '../validate.ts';
import { TopUpSchema, type TopUpInput } from './schemas.ts';

export interface WalletBalance {
  ownerId: string;
  currency: string;
  /** Posted credits minus posted and held debits: what can still be spent. */
  availableMicros: bigint;
  heldMicros: bigint;
  postedMicros: bigint;
}

export interface TopUpResult {
  transferId: string;
  /** False when this reference was already applied (nothing was added twice). */
  applied: boolean;
  balance: WalletBalance;
}

export class Wallets {
  readonly #ledger: Ledger;

  constructor(ledger: Ledger) {
    this.#ledger = ledger;
  }

  async topUp(input: TopUpInput): Promise<TopUpResult> {
    const data = parseInput(TopUpSchema, input);
    const amount = parseMicros(data.amount, { field: 'amount', allowZero: false });
    const transferId = `topup:${data.ownerId}:${data.reference}`;
    const [result] = await this.#ledger.createTransfers([
      {
        id: transferId,
        debitAccountId: SYSTEM_ACCOUNTS.externalFunding,
        creditAccountId: accountId.wallet(data.ownerId),
        amount,
        ledger: LEDGER.money,
        code: TRANSFER_CODE.topUp,
        metadata: { reference: data.reference },
      },
    ]);
    const status = result?.status;
    if (status === 'credit_account_not_found') throw new TollgateError('not_found', `ownerId: no wallet for ${data.ownerId}`, { field: 'ownerId' });
    if (status?.startsWith('exists_with_different')) {
      throw new TollgateError('idempotency_conflict', `reference ${data.reference} was already used for a different top-up`, { field: 'reference' });
    }
    if (status !== 'created' && status !== 'exists') throw new TollgateError('conflict', `top-up refused by the ledger: ${status}`, { status });
    return { transferId, applied: status === 'created', balance: await this.balance(data.ownerId) };
  }

  async balance(ownerId: string): Promise<WalletBalance> {
    const [account] = await this.#ledger.lookupAccounts([accountId.wallet(ownerId)]);
    if (!account) throw new TollgateError('not_found', `no wallet for ${ownerId}`, { ownerId });
    return {
      ownerId,
      currency: account.currency,
      availableMicros: account.creditsPosted - account.debitsPosted - account.debitsPending,
      heldMicros: account.debitsPending,
      postedMicros: account.creditsPosted - account.debitsPosted,
    };
  }

  async transactions(ownerId: string, options: { limit?: number; before?: string } = {}): Promise<TransferPage> {
    return this.#ledger.getAccountTransfers(accountId.wallet(ownerId), options);
  }
}
