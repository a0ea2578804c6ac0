/**
 * @module db/migrations/006-usage-export-quotas
 * Exporting captured usage exactly once, Stripe customer mappings and quotas.
 *
 * - `usage_outbox`: one row per captured call, keyed by the capture id (the call id: a call is
 *   captured at most once). It is filled from `audit_records` in audit order (`audit_seq`), so a
 *   capture that committed is exported even when the process that settled it died right after.
 * - `usage_exports`: one cursor per downstream sink (the last `audit_seq` it acknowledged) with a
 *   lease, so one process at a time drains a sink and a crash only means a redelivery.
 * - `usage_export_rejects`: events a sink refused for good (dead letters), so they never block the
 *   events behind them and stay visible.
 * - `stripe_customers`: which Stripe customer pays for a user's or an org's usage.
 * - `quota_limits` / `quota_counters`: per-principal quotas and their fixed-window counters (the
 *   Postgres store, used when no Redis is configured).
 */
import type { Migration } from '../migrate.ts';

export const usageExportQuotas: Migration = {
  id: '006-usage-export-quotas',
  sql: `
CREATE TABLE usage_outbox (
  capture_id text PRIMARY KEY,
  audit_seq bigint NOT NULL UNIQUE,
  at timestamptz NOT NULL,
  edge text NOT NULL,
  org_id text,
  user_id text,
  grant_id text,
  service text NOT NULL,
  tool text NOT NULL,
  status text NOT NULL,
  latency_ms integer,
  units bigint CHECK (units >= 0),
  charge_micros bigint NOT NULL CHECK (charge_micros >= 0)
);

CREATE TABLE usage_exports (
  sink text PRIMARY KEY CHECK (length(sink) BETWEEN 1 AND 100),
  audit_seq bigint NOT NULL DEFAULT 0 CHECK (audit_seq >= 0),
  lease_owner text,
  lease_until timestamptz,
  failures integer NOT NULL DEFAULT 0,
  last_error text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE usage_export_rejects (
  sink text NOT NULL,
  capture_id text NOT NULL,
  reason text NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sink, capture_id)
);

CREATE TABLE stripe_customers (
  subject_kind text NOT NULL CHECK (subject_kind IN ('user', 'org')),
  subject_id text NOT NULL,
  customer_id text NOT NULL CHECK (customer_id ~ '^cus_[A-Za-z0-9]{1,250}$'),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subject_kind, subject_id)
);

CREATE TABLE quota_limits (
  principal_id text PRIMARY KEY,
  metric text NOT NULL CHECK (metric IN ('calls', 'units')),
  limit_value bigint NOT NULL CHECK (limit_value >= 0),
  window_seconds integer NOT NULL CHECK (window_seconds BETWEEN 1 AND 31622400),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE quota_counters (
  principal_id text NOT NULL,
  metric text NOT NULL,
  window_start_ms bigint NOT NULL,
  used bigint NOT NULL CHECK (used >= 0),
  PRIMARY KEY (principal_id, metric, window_start_ms)
);
`,
};
