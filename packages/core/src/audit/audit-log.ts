/**
 * @module audit/audit-log
 * The audit log: append (group-committed, idempotent by call and kind), read, query, verify,
 * export, explain. Records are never updated or deleted by Tollgate; `verify` proves it.
 */
import type { Db, Queryable } from '../db/db.ts';
import { TollgateError } from '../errors.ts';
import { PAGE_SIZE_MAX } from '../constants.ts';
import { explainRecord, type ApprovalFacts } from './explain.ts';
import { exportCsv, exportJournal, exportJsonl } from './export.ts';
import { seqCursor, whereOf } from './filters.ts';
import { normalize, recordFromRow, type Row } from './rows.ts';
import { verifyChain } from './verify.ts';
import { appendRecords, AuditWriter, type PreparedRecord } from './writer.ts';
import type { AuditAnchor, AuditFilter, AuditInput, AuditPage, AuditQuery, AuditRecord, VerifyResult } from './types.ts';

export interface AuditLogOptions {
  db: Db;
  now?: () => Date;
  /** Most records per commit (default 1,000). */
  batchSizeMax?: number;
}

export class AuditLog {
  readonly #db: Db;
  readonly #now: () => Date;
  readonly #writer: AuditWriter;

  constructor(options: AuditLogOptions) {
    this.#db = options.db;
    this.#now = options.now ?? (() => new Date());
    this.#writer = new AuditWriter(options.db, options.batchSizeMax === undefined ? {} : { batchSizeMax: options.batchSizeMax });
  }

  /** Batches and records committed by this process (for benchmarks). */
  get stats(): { batches: number; records: number } {
    return { ...this.#writer.stats };
  }

  /**
   * Appends the record of a finished call. A second append for the same call and kind (outcome,
   * or refusal code) returns the record already written instead of chaining a duplicate.
   */
  append(input: AuditInput): Promise<AuditRecord> {
    let prepared;
    try {
      prepared = this.prepare(input);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#writer.submit(prepared);
  }

  /** Checks and stamps a record, for `appendRecords` inside another transaction (the guard's settle). */
  prepare(input: AuditInput): PreparedRecord {
    return { ...normalize(input), createdAt: this.#now() };
  }

  /**
   * Chains prepared records inside another writer's transaction (a rail's earnings credit, in the
   * ledger's batch), which must take the audit head last among its locks. Idempotent by call and
   * kind, like `append`.
   */
  appendIn(tx: Queryable, records: readonly PreparedRecord[]): Promise<AuditRecord[]> {
    return appendRecords(tx, records);
  }

  /** Waits until every append queued so far has committed. */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /** The latest record of a call (a call refused for approval and then paid has two). */
  async get(callId: string): Promise<AuditRecord | undefined> {
    const rows = await this.#db.query<Row>('SELECT * FROM audit_records WHERE call_id = $1 ORDER BY seq DESC LIMIT 1', [callId]);
    return rows[0] ? recordFromRow(rows[0]) : undefined;
  }

  /** Every record of a call, oldest first. */
  async history(callId: string): Promise<AuditRecord[]> {
    const rows = await this.#db.query<Row>('SELECT * FROM audit_records WHERE call_id = $1 ORDER BY seq', [callId]);
    return rows.map(recordFromRow);
  }

  /** Newest first; `next` is the cursor of the following (older) page. */
  async query(query: AuditQuery = {}): Promise<AuditPage> {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), PAGE_SIZE_MAX);
    const before = seqCursor('before', query.before);
    const where = whereOf(query);
    const params = [...where.params];
    let sql = where.sql;
    if (before !== undefined) {
      params.push(before);
      sql += ` AND seq < $${params.length}`;
    }
    params.push(limit + 1);
    const rows = await this.#db.query<Row>(`SELECT * FROM audit_records WHERE ${sql} ORDER BY seq DESC LIMIT $${params.length}`, params);
    const records = rows.slice(0, limit).map(recordFromRow);
    const last = records[records.length - 1];
    return rows.length > limit && last ? { records, next: last.seq.toString() } : { records };
  }

  /** The chain head, to publish as an anchor that later verifications compare against. */
  async head(): Promise<AuditAnchor> {
    const [row] = await this.#db.query<{ seq: bigint; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1');
    if (!row) throw new Error('audit_head is missing');
    return { seq: BigInt(row.seq), hash: row.hash };
  }

  verify(options: { anchors?: readonly AuditAnchor[] } = {}): Promise<VerifyResult> {
    return verifyChain(this.#db, options);
  }

  exportCsv(filter: AuditFilter = {}): AsyncIterable<string> {
    return exportCsv(this.#db, filter);
  }

  exportJsonl(filter: AuditFilter = {}): AsyncIterable<string> {
    return exportJsonl(this.#db, filter);
  }

  exportJournal(filter: AuditFilter = {}): AsyncIterable<string> {
    return exportJournal(this.#db, filter);
  }

  /** A readable paragraph: why the call was paid, or why it was blocked and by what. */
  async explain(callId: string): Promise<string> {
    const record = await this.get(callId);
    if (!record) throw new TollgateError('not_found', `No audit record for call ${callId}`, { callId });
    return explainRecord(record, record.approvalId ? await this.#approval(record.approvalId) : undefined);
  }

  async #approval(id: string): Promise<ApprovalFacts | undefined> {
    const rows = await this.#db.query<Row>('SELECT id, state, decided_by, scope, trigger, expires_at FROM approvals WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id as string, state: row.state as string, decidedBy: (row.decided_by as string | null) ?? null,
      scope: row.scope as string, trigger: row.trigger as string, expiresAt: new Date(row.expires_at as string),
    };
  }
}
