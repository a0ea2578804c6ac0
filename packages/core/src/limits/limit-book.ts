/**
 * @module limits/limit-book
 * Creates and funds limit accounts lazily, the first time a period or grant needs one. Account ids
 * are deterministic and both requests are idempotent, so two processes racing to create the same
 * month's account both succeed with one account and one funding transfer.
 */
import type { Account, Ledger } from '../ledger/types.ts';
import { LEDGER } from '../ledger/types.ts';
import { TollgateError } from '../errors.ts';
import { limitAccount, SYSTEM_ACCOUNTS, TRANSFER_CODE, type LimitKind } from './accounts.ts';

export interface LimitSpec {
  id: string;
  kind: LimitKind;
  capMicros: bigint;
}

export interface LimitUsage {
  id: string;
  capMicros: bigint;
  usedMicros: bigint;
  heldMicros: bigint;
  remainingMicros: bigint;
}

/** Accounts already known to exist, so the hot path skips the create round trip. Bounded. */
const ENSURED_CACHE_SIZE_MAX = 100_000;

const OK = new Set(['created', 'exists']);

export class LimitBook {
  readonly #ledger: Ledger;
  readonly #currency: string;
  readonly #ensured = new Set<string>();

  constructor(ledger: Ledger, currency: string) {
    this.#ledger = ledger;
    this.#currency = currency;
  }

  /** Makes sure every limit account exists and is funded with its cap. */
  async ensure(specs: readonly LimitSpec[]): Promise<void> {
    const missing = specs.filter((s) => !this.#ensured.has(s.id));
    if (missing.length === 0) return;
    const accounts = await this.#ledger.createAccounts(missing.map((s) => limitAccount(s.id, s.kind, this.#currency)));
    assertAll(accounts, 'create limit accounts');
    const funded = await this.#ledger.createTransfers(
      missing.filter((s) => s.capMicros > 0n).map((s) => ({
        id: `fund:${s.id}`,
        debitAccountId: SYSTEM_ACCOUNTS.limitSource,
        creditAccountId: s.id,
        amount: s.capMicros,
        ledger: LEDGER.limits,
        code: TRANSFER_CODE.limitFund,
      })),
    );
    assertAll(funded, 'fund limit accounts');
    if (this.#ensured.size + missing.length > ENSURED_CACHE_SIZE_MAX) this.#ensured.clear();
    for (const s of missing) this.#ensured.add(s.id);
  }

  /** Raises a limit by `amountMicros`; `reference` makes the raise idempotent. */
  async raise(id: string, amountMicros: bigint, reference: string): Promise<void> {
    const [result] = await this.#ledger.createTransfers([
      { id: `raise:${id}:${reference}`, debitAccountId: SYSTEM_ACCOUNTS.limitSource, creditAccountId: id, amount: amountMicros, ledger: LEDGER.limits, code: TRANSFER_CODE.limitFund },
    ]);
    if (!result || !OK.has(result.status)) throw new Error(`raise limit ${id}: ${result?.status}`);
  }

  async usage(ids: readonly string[]): Promise<Map<string, LimitUsage>> {
    const accounts = await this.#ledger.lookupAccounts(ids);
    return new Map(accounts.map((a) => [a.id, usageOf(a)]));
  }
}

export function usageOf(account: Account): LimitUsage {
  return {
    id: account.id,
    capMicros: account.creditsPosted,
    usedMicros: account.debitsPosted,
    heldMicros: account.debitsPending,
    remainingMicros: account.creditsPosted - account.debitsPosted - account.debitsPending,
  };
}

function assertAll(results: readonly { id: string; status: string }[], what: string): void {
  const bad = results.find((r) => !OK.has(r.status));
  if (bad) throw new TollgateError('internal', `${what}: ${bad.id} → ${bad.status}`);
}
