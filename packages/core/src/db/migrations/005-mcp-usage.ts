/**
 * @module db/migrations/005-mcp-usage
 * Usage events seen by the edges (refused calls included, charge 0) and seller payouts. A payout's
 * money moves in the ledger (`earnings:<seller>` → `external:payouts`, held on request, posted when
 * paid, voided when it failed); this table keeps its reference and state.
 */
import type { Migration } from '../migrate.ts';

export const mcpUsage: Migration = {
  id: '005-mcp-usage',
  sql: `
CREATE TABLE usage_events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  edge text NOT NULL CHECK (edge IN ('http', 'mcp', 'sdk')),
  principal_id text,
  grant_id text,
  service text NOT NULL,
  tool text NOT NULL,
  status text NOT NULL CHECK (status IN ('ok', 'tool_error', 'refused', 'upstream_failed', 'upstream_timeout', 'cancelled')),
  code text,
  call_id text,
  latency_ms integer NOT NULL CHECK (latency_ms >= 0),
  units bigint CHECK (units >= 0),
  charge_micros bigint NOT NULL CHECK (charge_micros >= 0)
);
CREATE INDEX usage_events_principal ON usage_events (principal_id, at);
CREATE INDEX usage_events_service ON usage_events (service, at);

CREATE TABLE payouts (
  id text PRIMARY KEY,
  seller_id text NOT NULL,
  amount_micros bigint NOT NULL CHECK (amount_micros > 0),
  currency text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
  transfer_id text NOT NULL UNIQUE,
  reference text,
  failure_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz
);
CREATE INDEX payouts_seller ON payouts (seller_id, created_at);
`,
};
