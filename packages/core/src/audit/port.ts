/**
 * @module audit/port
 * Plugs the audit log into the budget guard's narrow `AuditPort` (which only needs to know the
 * record was written). The guard's `CallRecord` is this log's `AuditInput` (one type, declared here).
 */
import type { AuditPort, CallRecord } from '../guard/ports.ts';
import type { AuditLog } from './audit-log.ts';
import type { AuditInput } from './types.ts';

export function auditPort(log: AuditLog): AuditPort {
  return {
    async append(record: CallRecord): Promise<void> {
      const input: AuditInput = record;
      await log.append(input);
    },
  };
}
