/**
 * @module audit/writer
 * Group commit for the audit chain (reference/groupcommit.md). One writer per process: the first
 * append on an idle writer commits at once; appends that arrive while a batch commits wait and go
 * together in the next one (capped), so there is no linger timer and no added latency at low load.
 *
 * Each batch is one transaction: lock the one-row `audit_head` (FOR UPDATE, so writers in other
 * processes queue behind it and the chain stays one line), look up records that already exist for
 * these calls (idempotency), compute seq and hashes in order in memory, insert every new record
 * with one set-based statement, move the head. Promises resolve only after COMMIT.
 */
import { randomBytes } from 'node:crypto';
import type { Db, Queryable } from '../db/db.ts';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { recordFromRow, recordFromStored, storedOf, type Row } from './rows.ts';
import type { AuditInput, AuditRecord } from './types.ts';

/** Most records one batch commits: bounds transaction size, lock time and worst-case latency. */
export const AUDIT_BATCH_SIZE_MAX = 1_000;

/** A record checked and stamped, ready to be chained (by the writer, or inside another transaction). */
export type PreparedRecord = AuditInput & { kind: string; createdAt: Date };

interface Job {
  input: PreparedRecord;
  resolve: (record: AuditRecord) => void;
  reject: (error: unknown) => void;
}

const COLUMNS = `seq bigint, id text, call_id text, outcome text, kind text, org_id text, project_id text, user_id text,
  grant_id text, agent_id text, task_id text, service text, service_id text, seller_id text, tool text, reason text, edge text,
  price_micros bigint, pricing text, decision text, rule_id text, error_code text, error_data jsonb, policy_trace jsonb,
  approval_id text, hold_micros bigint, rail text, captured_micros bigint, fee_micros bigint, status text, http_status integer,
  summary text, latency_ms integer, units bigint, transfers jsonb, created_at timestamptz, prev_hash text, hash text`;
const NAMES = COLUMNS.split(',').map((c) => c.trim().split(/\s+/)[0]).join(', ');

export class AuditWriter {
  readonly #db: Db;
  readonly #sizeMax: number;
  #queue: Job[] = [];
  #draining: Promise<void> | undefined;
  /** Batches committed and records per batch, for benchmarks. */
  readonly stats = { batches: 0, records: 0 };

  constructor(db: Db, options: { batchSizeMax?: number } = {}) {
    this.#db = db;
    this.#sizeMax = options.batchSizeMax ?? AUDIT_BATCH_SIZE_MAX;
  }

  submit(input: PreparedRecord): Promise<AuditRecord> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#draining ??= this.#drain();
    });
  }

  /** Resolves once everything queued so far is committed (or refused). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#sizeMax);
        await this.#commitOrBisect(batch);
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /**
   * A batch that fails as a whole (a bug, a bad value, a lost connection) is split in halves, in
   * order, so one poison record is refused alone and the others still commit in queue order.
   */
  async #commitOrBisect(batch: Job[]): Promise<void> {
    try {
      const records = await this.#db.transaction((tx) => appendRecords(tx, batch.map((j) => j.input)));
      this.stats.batches += 1;
      this.stats.records += batch.length;
      batch.forEach((job, i) => job.resolve(records[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await this.#commitOrBisect(batch.slice(0, half));
      await this.#commitOrBisect(batch.slice(half));
    }
  }

}

/**
 * Chains `inputs` onto the log inside `tx`: locks the head, skips records that already exist for
 * their call and kind (returning those), inserts the rest in one statement and moves the head. Any
 * transaction may call it, as long as it takes the head last among its locks (the ledger's settle
 * batch does), so two writers never wait on each other in opposite orders.
 */
export async function appendRecords(tx: Queryable, records: readonly PreparedRecord[] | Promise<readonly PreparedRecord[]>, options: { unique?: boolean } = {}): Promise<AuditRecord[]> {
  // The head is locked at once; records still being decided (by a statement sent just before) are
  // awaited alongside, so the lock costs no round trip of its own.
  const [[head], inputs] = await Promise.all([tx.query<{ seq: bigint; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE'), records]);
  if (!head) throw new Error('audit_head is missing: the 003 migration did not run');
  // `unique`: the caller guarantees no record exists yet for these calls and kinds (the guard's
  // settle, which appends only for calls its own transaction moved to their final state).
  const existing = options.unique ? [] : await tx.query<Row>(
    'SELECT * FROM audit_records WHERE call_id IN (SELECT jsonb_array_elements_text($1::jsonb))',
    [JSON.stringify([...new Set(inputs.map((i) => i.callId))])],
  );
  const byKey = new Map<string, AuditRecord>(existing.map((row) => [`${row.call_id}\u0000${row.kind}`, recordFromRow(row)]));
  let seq = BigInt(head.seq);
  let prevHash = head.hash;
  const fresh: string[] = [];
  const out = inputs.map((input) => {
    const key = `${input.callId}\u0000${input.kind}`;
    const found = byKey.get(key);
    if (found) return found;
    seq += 1n;
    const stored = storedOf({ ...input, id: `rec_${randomBytes(12).toString('hex')}`, seq, prevHash });
    const text = canonicalJson(stored);
    const hash = sha256Hex(text);
    const record = recordFromStored(stored, hash);
    byKey.set(key, record);
    // The hashed text is reused as the row to insert (key order is irrelevant to jsonb), so
    // each record is serialized once.
    fresh.push(`${text.slice(0, -1)},"hash":"${hash}"}`);
    prevHash = hash;
    return record;
  });
  if (fresh.length > 0) {
    // One round trip for both: inside the ledger's settle batch every round trip holds the hot
    // accounts' locks a little longer.
    const moved = await tx.query(
      `WITH inserted AS (INSERT INTO audit_records (${NAMES}) SELECT ${NAMES} FROM jsonb_to_recordset($1::jsonb) AS r(${COLUMNS}) RETURNING 1)
       UPDATE audit_head SET seq = $2, hash = $3 WHERE id = 1 AND (SELECT count(*) FROM inserted) = $4 RETURNING id`,
      [`[${fresh.join(',')}]`, seq, prevHash, fresh.length],
    );
    if (moved.length !== 1) throw new Error(`audit: ${fresh.length} records were not all inserted; the head did not move`);
  }
  return out;
}
