/**
 * @module audit/port
 * Plugs the audit log into the budget guard's narrow `AuditPort`: append a refusal on its own, or
 * prepare a settled call's record to be chained inside the settle's ledger transaction. The guard's
 * `CallRecord` is this log's `AuditInput` (one type, declared here).
 */
import type { AuditPort, CallRecord } from '../guard/ports.ts';
import type { AuditLog } from './audit-log.ts';
import type { AuditInput } from './types.ts';
import { appendRecords } from './writer.ts';

export function auditPort(log: AuditLog): AuditPort {
  return {
    async append(record: CallRecord): Promise<void> {
      const input: AuditInput = record;
      await log.append(input);
    },
    prepare: (record) => log.prepare(record),
    async appendIn(tx, records) {
      await appendRecords(tx, records, { unique: true });
    },
  };
}
