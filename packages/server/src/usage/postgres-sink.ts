/**
 * @module usage/postgres-sink
 * Every observed usage event as a row of `usage_events` (migration 005), written off the call
 * path: a paid call never waits for its usage row, one INSERT carries a whole batch, and a
 * database that fails is retried with backoff instead of losing the events
 * (`usage/buffered-sink.ts`).
 */
import type { Db, UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';
import { BufferedUsageSink, type BufferedUsageSinkOptions } from './buffered-sink.ts';

const COLUMNS = 12;

/** One INSERT per batch into `usage_events`; no buffer of its own. */
export class UsageEventsTable implements UsageSink {
  constructor(readonly db: Db) {}

  async write(event: UsageEvent): Promise<void> {
    await this.writeBatch([event]);
  }

  async writeBatch(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
    const params: unknown[] = [];
    const rows = events.map((e) => {
      params.push(e.at, e.edge, e.principalId, e.grantId, e.service, e.tool, e.status, e.code ?? null, e.callId ?? null,
        Math.max(0, Math.round(e.latencyMs)), e.units?.toString() ?? null, e.chargeMicros.toString());
      const base = params.length - COLUMNS;
      return `(${Array.from({ length: COLUMNS }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    await this.db.query(
      `INSERT INTO usage_events (at, edge, principal_id, grant_id, service, tool, status, code, call_id, latency_ms, units, charge_micros) VALUES ${rows.join(', ')}`,
      params,
    );
    return [];
  }
}

/**
 * How long usage rows wait to share an INSERT. Off the call path, so no call waits; on PGlite, which
 * runs on the server's own thread, one insert per event would cost the proxy a third of its speed.
 */
export const USAGE_EVENTS_LINGER_MS = 100;

/** `usage_events`, buffered and retried. */
export class PostgresUsageSink extends BufferedUsageSink {
  constructor(db: Db, options: BufferedUsageSinkOptions = {}) {
    super(new UsageEventsTable(db), { lingerMs: USAGE_EVENTS_LINGER_MS, ...options });
  }
}
