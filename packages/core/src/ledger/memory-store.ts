/**
 * @module ledger/memory-store
 * The state machine over plain Maps: no database, no batching, one request at a time. For tests and
 * for embedding where durability does not matter; every result equals the SQL store's.
 */
import { checkLedger } from './check.ts';
import { clockMs, type LedgerOptions } from './clock.ts';
import { assertAccountsRequest, assertIds, assertTransfersRequest, copyEvents, decodeCursor, encodeCursor, expireLimit, pageLimit } from './requests.ts';
import { emptyLedgerState, holdExpired, StateMachine } from './state-machine.ts';
import type { Account, AccountInput, AccountResult, InvariantReport, Ledger, PendingState, Transfer, TransferInput, TransferPage, TransferResult } from './types.ts';

const copyAccount = (a: Account): Account => ({ ...a, metadata: structuredClone(a.metadata) });
const copyTransfer = (t: Transfer): Transfer => ({ ...t, metadata: structuredClone(t.metadata) });

export class MemoryLedger implements Ledger {
  readonly #state = emptyLedgerState();
  /** Every transfer in creation order; a transfer's position + 1 is its cursor. */
  readonly #history: Transfer[] = [];
  readonly #now: () => bigint;
  #closed = false;

  constructor(options: LedgerOptions = {}) {
    this.#now = clockMs(options);
  }

  #machine(): StateMachine {
    if (this.#closed) throw new Error('ledger: closed');
    return new StateMachine(this.#state, this.#now());
  }

  async createAccounts(accounts: readonly AccountInput[]): Promise<AccountResult[]> {
    assertAccountsRequest(accounts);
    return this.#machine().createAccounts(copyEvents(accounts));
  }

  async createTransfers(transfers: readonly TransferInput[]): Promise<TransferResult[]> {
    assertTransfersRequest(transfers);
    const machine = this.#machine();
    const results = machine.createTransfers(copyEvents(transfers));
    this.#history.push(...machine.changes().transfers);
    return results;
  }

  async lookupAccounts(ids: readonly string[]): Promise<Account[]> {
    assertIds(ids, 'ids');
    return ids.flatMap((id) => {
      const a = this.#state.accounts.get(id);
      return a ? [copyAccount(a)] : [];
    });
  }

  async lookupTransfers(ids: readonly string[]): Promise<Transfer[]> {
    assertIds(ids, 'ids');
    return ids.flatMap((id) => {
      const t = this.#state.transfers.get(id);
      return t ? [copyTransfer(t)] : [];
    });
  }

  async lookupPending(ids: readonly string[]): Promise<Map<string, PendingState>> {
    assertIds(ids, 'ids');
    const now = this.#now();
    const out = new Map<string, PendingState>();
    for (const id of ids) {
      const hold = this.#state.holds.get(id);
      if (hold) out.set(id, holdExpired(hold, now) ? 'expired' : hold.state);
    }
    return out;
  }

  async getAccountTransfers(accountId: string, options: { limit?: number; before?: string } = {}): Promise<TransferPage> {
    const limit = pageLimit(options.limit);
    const before = decodeCursor(options.before);
    // Positions are 1-based sequence numbers; a page holds transfers strictly older than `before`.
    const start = before === undefined ? this.#history.length : Number(before) - 1;
    const found: { transfer: Transfer; seq: number }[] = [];
    for (let i = Math.min(start, this.#history.length) - 1; i >= 0 && found.length <= limit; i -= 1) {
      const t = this.#history[i]!;
      if (t.debitAccountId === accountId || t.creditAccountId === accountId) found.push({ transfer: t, seq: i + 1 });
    }
    const page = found.slice(0, limit);
    const transfers = page.map((f) => copyTransfer(f.transfer));
    return found.length > limit ? { transfers, next: encodeCursor(BigInt(page.at(-1)!.seq)) } : { transfers };
  }

  async expirePending(limit?: number): Promise<number> {
    const max = expireLimit(limit);
    const machine = this.#machine();
    const now = this.#now();
    const candidates = [...this.#state.holds.values()]
      .filter((h) => h.state === 'pending' && h.expiresAtMs !== null && h.expiresAtMs <= now)
      .sort((a, b) => (a.expiresAtMs! < b.expiresAtMs! ? -1 : a.expiresAtMs! > b.expiresAtMs! ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((h) => h.id);
    return machine.expire(candidates, max);
  }

  async check(): Promise<InvariantReport> {
    return checkLedger(this.#state.accounts.values(), this.#history, [...this.#state.holds.values()]);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** A ledger in process memory (tests, embedding). */
export function createMemoryLedger(options: LedgerOptions = {}): MemoryLedger {
  return new MemoryLedger(options);
}
