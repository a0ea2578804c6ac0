/**
 * @module audit/port
 * Plugs the audit log into the budget guard's narrow `AuditPort` (which only needs to know the
 * record was written). The guard's `CallRecord` is an `AuditInput` as is; the assignment below
 * fails to compile if the two ever drift apart.
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
