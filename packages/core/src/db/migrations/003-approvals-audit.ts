/**
 * @module db/migrations/003-approvals-audit
 * Approvals (parked decisions), the webhook outbox, and the hash-chained audit record. Ids of other
 * areas (org, grant, call) are plain text on purpose: no foreign keys, so the audit log and the
 * approvals outlive anything they mention and each area migrates on its own.
 */
import type { Migration } from '../migrate.ts';

export const approvalsAudit: Migration = {
  id: '003-approvals-audit',
  sql: `
CREATE TABLE approvals (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  user_id text NOT NULL,
  grant_id text NOT NULL,
  call_id text NOT NULL,
  task_id text,
  agent_id text,
  service text NOT NULL,
  tool text NOT NULL,
  price_micros bigint NOT NULL CHECK (price_micros >= 0),
  reason text,
  trigger text NOT NULL,
  rule_id text,
  explanation text NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'denied', 'expired')),
  scope text NOT NULL CHECK (scope IN ('call', 'task', 'raise_cap')),
  raise_micros bigint CHECK (raise_micros > 0),
  decided_by text,
  decided_at timestamptz,
  note text,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_by_call_id text,
  created_at timestamptz NOT NULL
);
-- One live approval per call: asking again for the same call finds it instead of making another.
CREATE UNIQUE INDEX approvals_live_call ON approvals (call_id) WHERE state IN ('pending', 'approved');
CREATE INDEX approvals_org ON approvals (org_id, created_at DESC, id DESC);
CREATE INDEX approvals_user ON approvals (user_id, created_at DESC, id DESC);
CREATE INDEX approvals_pending_expiry ON approvals (expires_at) WHERE state = 'pending';
CREATE INDEX approvals_task ON approvals (grant_id, task_id, service) WHERE state = 'approved' AND scope = 'task';

CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  org_id text NOT NULL,
  url text NOT NULL,
  secret text NOT NULL,
  events jsonb NOT NULL,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id) WHERE active;

CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY,
  endpoint_id text NOT NULL,
  event_id text NOT NULL,
  event_type text NOT NULL,
  payload jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
  last_error text,
  last_status integer,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';

-- The chain head: one row, locked FOR UPDATE by each append batch so that writers in several
-- processes extend one chain in one order.
CREATE TABLE audit_head (
  id smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');

CREATE TABLE audit_records (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  id text NOT NULL UNIQUE,
  call_id text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('captured', 'voided', 'refused', 'expired')),
  -- What makes a record of a call unique: the outcome, and for refusals the code too, so a retry
  -- of the same refusal finds the first record while a later, different refusal is still recorded.
  kind text NOT NULL,
  org_id text,
  project_id text,
  user_id text,
  grant_id text,
  agent_id text,
  task_id text,
  service text NOT NULL,
  service_id text NOT NULL,
  seller_id text,
  tool text NOT NULL,
  reason text,
  edge text NOT NULL,
  price_micros bigint NOT NULL,
  pricing text NOT NULL,
  decision text NOT NULL,
  rule_id text,
  error_code text,
  error_data jsonb,
  policy_trace jsonb NOT NULL,
  approval_id text,
  hold_micros bigint NOT NULL,
  rail text NOT NULL,
  captured_micros bigint NOT NULL,
  fee_micros bigint NOT NULL,
  status text NOT NULL,
  http_status integer,
  summary text,
  latency_ms integer,
  units bigint,
  transfers jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  prev_hash text NOT NULL,
  -- Not indexed: only verify looks a hash up, and only once it has already found a problem.
  hash text NOT NULL,
  UNIQUE (call_id, kind)
);
CREATE INDEX audit_records_org ON audit_records (org_id, seq DESC);
CREATE INDEX audit_records_task ON audit_records (task_id, seq DESC) WHERE task_id IS NOT NULL;
CREATE INDEX audit_records_agent ON audit_records (agent_id, seq DESC) WHERE agent_id IS NOT NULL;
CREATE INDEX audit_records_grant ON audit_records (grant_id, seq DESC);
CREATE INDEX audit_records_user ON audit_records (user_id, seq DESC);
CREATE INDEX audit_records_service ON audit_records (service, seq DESC);
CREATE INDEX audit_records_created ON audit_records (created_at);
`,
};
