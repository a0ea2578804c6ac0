/**
 * @module ledger/sql-store
 * The ledger on PostgreSQL or PGlite (the same SQL on both). Writes go through one group-commit
 * writer per store; each batch is one transaction:
 *
 *   BEGIN → lock the holds it resolves → lock every touched account (ORDER BY id FOR NO KEY UPDATE)
 *   → read the transfers and failed ids it names (these four are one pipelined round trip) → run
 *   the state machine in order, in memory → one
 *   set-based write → the requests' attachments (attachment.ts) → COMMIT → resolve each caller with
 *   its own results.
 *
 * The row locks make this correct across processes: two stores on one Postgres serialize on the
 * accounts they share, and each decides on the rows it locked, so together they never overspend.
 * Reads go straight to the database.
 */
import type { Db, Queryable } from '../db/db.ts';
import { clockMs, type LedgerOptions } from './clock.ts';
import { assertAccountsRequest, assertIds, assertTransfersRequest, copyEvents, decodeCursor, encodeCursor, expireLimit, pageLimit } from './requests.ts';
import { sqlCheck } from './sql-check.ts';
import { ACCOUNT_COLUMNS, HOLD_COLUMNS, loadBatch, toAccount, toHold, toTransfer, TRANSFER_COLUMNS, type AccountRow, type BatchKeys, type HoldRow, type TransferRow } from './sql-rows.ts';
import { writeChanges } from './sql-write.ts';
import { holdExpired, StateMachine } from './state-machine.ts';
import type { Account, AccountInput, AccountResult, InvariantReport, Ledger, PendingState, Transfer, TransferInput, TransferPage, TransferResult } from './types.ts';
import { Writer, type WriterRequest, type WriterStats } from './writer.ts';
import type { AttachedResult, Attachment, AttachingLedger, AttachmentWriter } from './attachment.ts';

/**
 * Every statement of a batch reads or writes rows by primary key. Left to cost estimates, the
 * planner hashes or scans whole tables once they are a few thousand rows (a sequential scan per
 * batch that grows with the ledger); a batch never wants that.
 */
const KEYED_ACCESS = { settings: { enable_seqscan: 'off' } } as const;

type Op =
  | { kind: 'accounts'; accounts: readonly AccountInput[] }
  | { kind: 'transfers'; transfers: readonly TransferInput[]; attachment?: Attachment<unknown, unknown> }
  | { kind: 'expire'; limit: number };
type Request = WriterRequest & { op: Op };

function batchKeys(requests: readonly Request[]): BatchKeys {
  const keys: BatchKeys = { transferIds: new Set(), pendingIds: new Set(), accountIds: new Set(), expireLimit: 0 };
  for (const { op } of requests) {
    if (op.kind === 'accounts') for (const a of op.accounts) keys.accountIds.add(String(a.id));
    if (op.kind === 'expire') keys.expireLimit += op.limit;
    if (op.kind !== 'transfers') continue;
    for (const t of op.transfers) {
      keys.transferIds.add(String(t.id));
      if (t.pendingId) {
        keys.transferIds.add(t.pendingId);
        keys.pendingIds.add(t.pendingId);
      }
      if (t.debitAccountId) keys.accountIds.add(t.debitAccountId);
      if (t.creditAccountId) keys.accountIds.add(t.creditAccountId);
    }
  }
  return keys;
}

/**
 * Runs the batch's attachments, every writer at once (their first statements are sent in order of
 * first use), and replaces each attached request's result with its `AttachedResult`.
 */
async function writeAttachments(tx: Queryable, requests: readonly Request[], results: unknown[], accounts: ReadonlyMap<string, Account>): Promise<void> {
  const groups = new Map<AttachmentWriter<unknown, unknown>, number[]>();
  requests.forEach(({ op }, i) => {
    if (op.kind !== 'transfers' || !op.attachment) return;
    const group = groups.get(op.attachment.writer);
    if (group) group.push(i);
    else groups.set(op.attachment.writer, [i]);
  });
  const account = (id: string) => accounts.get(id);
  // Every writer's first statements leave together (one round trip), still in order of first use.
  const answered = await Promise.all([...groups].map(([writer, indexes]) => writer.write(tx, indexes.map((i) => ({ item: attachmentOf(requests[i]!).item, results: results[i] as TransferResult[], account })))));
  [...groups.values()].forEach((indexes, g) => {
    const answers = answered[g]!;
    if (answers.length !== indexes.length) throw new Error(`ledger: an attachment writer gave ${answers.length} answers for ${indexes.length} entries`);
    indexes.forEach((i, k) => {
      const report = attachmentOf(requests[i]!).report ?? [];
      const reported = new Map(report.flatMap((id) => (accounts.has(id) ? [[id, { ...accounts.get(id)! }] as const] : [])));
      results[i] = { results: results[i] as TransferResult[], answer: answers[k], accounts: reported } satisfies AttachedResult<unknown>;
    });
  });
}

function attachmentOf(request: Request): Attachment<unknown, unknown> {
  return (request.op as { attachment: Attachment<unknown, unknown> }).attachment;
}

export class SqlLedger implements Ledger, AttachingLedger {
  readonly #db: Db;
  readonly #now: () => bigint;
  readonly #writer: Writer<Request>;
  #closed = false;

  constructor(db: Db, options: LedgerOptions = {}) {
    this.#db = db;
    this.#now = clockMs(options);
    this.#writer = new Writer<Request>((requests) => this.#runBatch(requests));
  }

  /** Batches, requests and events committed so far, and how often a failed batch was bisected. */
  get writerStats(): Readonly<WriterStats> {
    return this.#writer.stats;
  }

  #runBatch(requests: readonly Request[]): Promise<unknown[]> {
    return this.#db.transaction(async (tx: Queryable) => {
      const nowMs = this.#now();
      const { state, expiryCandidates } = await loadBatch(tx, batchKeys(requests), nowMs);
      const machine = new StateMachine(state, nowMs);
      const results: unknown[] = requests.map(({ op }) => {
        if (op.kind === 'accounts') return machine.createAccounts(op.accounts);
        if (op.kind === 'transfers') return machine.createTransfers(op.transfers);
        return machine.expire(expiryCandidates, op.limit);
      });
      // The attachments follow the write in the same round trip (sent after it, so they run after it).
      await Promise.all([writeChanges(tx, machine.changes(), nowMs), writeAttachments(tx, requests, results, state.accounts)]);
      return results;
    }, KEYED_ACCESS);
  }

  #submit<R>(op: Op, size: number): Promise<R> {
    if (this.#closed) return Promise.reject(new Error('ledger: closed'));
    return new Promise<R>((resolve, reject) => {
      this.#writer.submit({ op, size: Math.max(1, size), resolve: resolve as (r: unknown) => void, reject });
    });
  }

  async createAccounts(accounts: readonly AccountInput[]): Promise<AccountResult[]> {
    assertAccountsRequest(accounts);
    if (accounts.length === 0) return [];
    return this.#submit({ kind: 'accounts', accounts: copyEvents(accounts) }, accounts.length);
  }

  async createTransfers(transfers: readonly TransferInput[]): Promise<TransferResult[]> {
    assertTransfersRequest(transfers);
    if (transfers.length === 0) return [];
    return this.#submit({ kind: 'transfers', transfers: copyEvents(transfers) }, transfers.length);
  }

  async createTransfersWith<T, R>(transfers: readonly TransferInput[], attachment: Attachment<T, R>): Promise<AttachedResult<R>> {
    assertTransfersRequest(transfers);
    return this.#submit({ kind: 'transfers', transfers: copyEvents(transfers), attachment: attachment as Attachment<unknown, unknown> }, Math.max(1, transfers.length));
  }

  async expirePending(limit?: number): Promise<number> {
    const max = expireLimit(limit);
    return this.#submit({ kind: 'expire', limit: max }, max);
  }

  async lookupAccounts(ids: readonly string[]): Promise<Account[]> {
    assertIds(ids, 'ids');
    const rows = await this.#db.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM ledger_accounts WHERE id = ANY($1::text[])`, [ids]);
    const byId = new Map(rows.map((r) => [r.id, toAccount(r)]));
    return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }

  async lookupTransfers(ids: readonly string[]): Promise<Transfer[]> {
    assertIds(ids, 'ids');
    const rows = await this.#db.query<TransferRow>(`SELECT ${TRANSFER_COLUMNS} FROM ledger_transfers WHERE id = ANY($1::text[])`, [ids]);
    const byId = new Map(rows.map((r) => [r.id, toTransfer(r)]));
    return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  }

  async lookupPending(ids: readonly string[]): Promise<Map<string, PendingState>> {
    assertIds(ids, 'ids');
    const rows = await this.#db.query<HoldRow>(`SELECT ${HOLD_COLUMNS} FROM ledger_pending WHERE id = ANY($1::text[])`, [ids]);
    const now = this.#now();
    const byId = new Map(rows.map((r) => [r.id, toHold(r)]));
    const out = new Map<string, PendingState>();
    for (const id of ids) {
      const hold = byId.get(id);
      if (hold) out.set(id, holdExpired(hold, now) ? 'expired' : hold.state);
    }
    return out;
  }

  async getAccountTransfers(accountId: string, options: { limit?: number; before?: string } = {}): Promise<TransferPage> {
    const limit = pageLimit(options.limit);
    const before = decodeCursor(options.before);
    // Two index range scans (debit side, credit side) merged, rather than an OR that can't use either index.
    const rows = await this.#db.query<TransferRow>(
      `SELECT ${TRANSFER_COLUMNS} FROM (
         (SELECT * FROM ledger_transfers WHERE debit_account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3)
         UNION ALL
         (SELECT * FROM ledger_transfers WHERE credit_account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3)
       ) t ORDER BY seq DESC LIMIT $3`,
      [accountId, (before ?? 2n ** 63n - 1n).toString(), limit + 1],
    );
    const page = rows.slice(0, limit);
    const transfers = page.map(toTransfer);
    return rows.length > limit ? { transfers, next: encodeCursor(page.at(-1)!.seq) } : { transfers };
  }

  check(): Promise<InvariantReport> {
    return sqlCheck(this.#db);
  }

  /** Stops taking requests and waits for the queued ones to commit. The database stays open (the caller owns it). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#writer.idle();
  }
}

/** The ledger on a migrated database (PGlite or Postgres). */
export async function openLedger(db: Db, options: LedgerOptions = {}): Promise<SqlLedger> {
  return new SqlLedger(db, options);
}
