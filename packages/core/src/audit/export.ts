/**
 * @module audit/export
 * Streaming exports: each is an async iterable of lines (each ending in "\n"), read from the
 * database a bounded page at a time in chain order, so an export of millions of records holds one
 * page in memory. CSV follows RFC 4180; JSON Lines carries every field; the journal has one line
 * per ledger movement, for accounting tools.
 */
import type { Queryable } from '../db/db.ts';
import { formatMicros } from '../money.ts';
import { whereOf } from './filters.ts';
import { recordFromRow, recordJson, type Row } from './rows.ts';
import type { AuditFilter, AuditRecord } from './types.ts';

export const EXPORT_PAGE_SIZE = 500;

/** Records matching `filter`, oldest first, fetched a page at a time. */
export async function* recordsInOrder(db: Queryable, filter: AuditFilter, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<AuditRecord> {
  const where = whereOf(filter);
  let after = 0n;
  for (;;) {
    const n = where.params.length;
    const rows = await db.query<Row>(
      `SELECT * FROM audit_records WHERE ${where.sql} AND seq > $${n + 1} ORDER BY seq LIMIT $${n + 2}`,
      [...where.params, after, pageSize],
    );
    for (const row of rows) yield recordFromRow(row);
    if (rows.length < pageSize) return;
    after = BigInt(rows[rows.length - 1]!.seq as bigint);
  }
}

/**
 * One CSV field: quoted when it holds a comma, quote, CR or LF (quotes doubled). Text that a
 * spreadsheet would run as a formula (= + - @ tab CR first) gets a leading apostrophe: an audit
 * export must never execute anything when opened.
 */
export function csvField(value: unknown, text = true): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const CSV_COLUMNS: readonly [string, (r: AuditRecord) => unknown, boolean][] = [
  ['seq', (r) => r.seq, false], ['id', (r) => r.id, true], ['created_at', (r) => r.createdAt.toISOString(), false],
  ['call_id', (r) => r.callId, true], ['outcome', (r) => r.outcome, true], ['org_id', (r) => r.orgId, true],
  ['project_id', (r) => r.projectId, true], ['user_id', (r) => r.userId, true], ['grant_id', (r) => r.grantId, true],
  ['agent_id', (r) => r.agentId, true], ['task_id', (r) => r.taskId, true], ['service', (r) => r.service, true],
  ['service_id', (r) => r.serviceId, true], ['seller_id', (r) => r.sellerId, true], ['tool', (r) => r.tool, true],
  ['reason', (r) => r.reason, true], ['edge', (r) => r.edge, true], ['price', (r) => formatMicros(r.priceMicros), false],
  ['pricing', (r) => r.pricing, true], ['decision', (r) => r.decision, true], ['rule_id', (r) => r.ruleId, true],
  ['error_code', (r) => r.errorCode, true], ['error_data', (r) => (r.errorData ? JSON.stringify(r.errorData) : null), true],
  ['approval_id', (r) => r.approvalId, true], ['hold', (r) => formatMicros(r.holdMicros), false], ['rail', (r) => r.rail, true],
  ['captured', (r) => formatMicros(r.capturedMicros), false], ['fee', (r) => formatMicros(r.feeMicros), false],
  ['status', (r) => r.status, true], ['http_status', (r) => r.httpStatus, false], ['summary', (r) => r.summary, true],
  ['latency_ms', (r) => r.latencyMs, false], ['units', (r) => r.units, false], ['hash', (r) => r.hash, false],
];

export function csvHeader(): string {
  return `${CSV_COLUMNS.map(([name]) => name).join(',')}\r\n`;
}

export function csvLine(r: AuditRecord): string {
  return `${CSV_COLUMNS.map(([, get, text]) => csvField(get(r), text)).join(',')}\r\n`;
}

export async function* exportCsv(db: Queryable, filter: AuditFilter): AsyncGenerator<string> {
  yield csvHeader();
  for await (const r of recordsInOrder(db, filter)) yield csvLine(r);
}

export async function* exportJsonl(db: Queryable, filter: AuditFilter): AsyncGenerator<string> {
  for await (const r of recordsInOrder(db, filter)) yield `${JSON.stringify(recordJson(r))}\n`;
}

/** One line per ledger movement, with the call it belongs to. Amounts are integer strings in the ledger's unit. */
export async function* exportJournal(db: Queryable, filter: AuditFilter): AsyncGenerator<string> {
  for await (const r of recordsInOrder(db, filter)) {
    for (const t of r.transfers) {
      yield `${JSON.stringify({
        seq: r.seq.toString(), record_id: r.id, created_at: r.createdAt.toISOString(), call_id: r.callId, outcome: r.outcome,
        org_id: r.orgId, user_id: r.userId, grant_id: r.grantId, task_id: r.taskId, agent_id: r.agentId, service: r.service, tool: r.tool,
        transfer_id: t.id, kind: t.kind, debit: t.debit, credit: t.credit, amount: t.amount.toString(),
      })}\n`;
    }
  }
}
