/**
 * @module audit
 * The explained, tamper-evident record of every paid call: hash-chained, group-committed,
 * queryable, exportable (CSV, JSON Lines, accounting journal) and explainable.
 */
export { AuditLog, type AuditLogOptions } from './audit-log.ts';
export { auditPort } from './port.ts';
export { AUDIT_BATCH_SIZE_MAX, type PreparedRecord } from './writer.ts';
export { canonicalJson, GENESIS_HASH } from './canonical.ts';
export { csvField } from './export.ts';
export { explainRecord, type ApprovalFacts } from './explain.ts';
export { recordJson } from './rows.ts';
export type {
  AuditInput,
  AuditRecord,
  AuditOutcome,
  AuditTransfer,
  AuditFilter,
  AuditQuery,
  AuditPage,
  AuditAnchor,
  VerifyResult,
  TamperProblem,
} from './types.ts';
