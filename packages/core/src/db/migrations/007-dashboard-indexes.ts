/**
 * @module db/migrations/007-dashboard-indexes
 * Indexes for the dashboard's aggregates over the audit log. Each covers one query: the rows of an
 * org (or a seller) in a time range, carrying every column the aggregate reads, so PostgreSQL can
 * answer from the index alone instead of reading every record of the month from the table. They
 * cost the audit writer two more index insertions per record.
 */
import type { Migration } from '../migrate.ts';

export const dashboardIndexes: Migration = {
  id: '007-dashboard-indexes',
  sql: `
CREATE INDEX audit_records_org_created ON audit_records (org_id, created_at)
  INCLUDE (outcome, captured_micros, task_id, agent_id, service);
CREATE INDEX audit_records_seller_created ON audit_records (seller_id, created_at)
  INCLUDE (service, outcome, status, captured_micros, fee_micros, latency_ms);
`,
};
