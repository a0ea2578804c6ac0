/**
 * @module usage
 * The metering seam: every call an edge sees becomes one `UsageEvent` (refused calls too, with
 * their code, and a charge of zero) fanned out to sinks. Sinks never throw into the call path: a
 * sink that fails is counted and logged by its owner, and the paid call goes on.
 */
import { appendFile } from 'node:fs/promises';
import type { Db } from '@tollgate/core';

export { proxyUsage } from './proxy-meter.ts';

export type UsageStatus = 'ok' | 'tool_error' | 'refused' | 'upstream_failed' | 'upstream_timeout' | 'cancelled';

export interface UsageEvent {
  at: Date;
  edge: 'http' | 'mcp' | 'sdk';
  /** The grant's user (the principal who pays); null when the token did not authenticate. */
  principalId: string | null;
  grantId: string | null;
  service: string;
  tool: string;
  status: UsageStatus;
  /** The refusal's code when `status` is `refused`. */
  code?: string;
  callId?: string;
  latencyMs: number;
  units?: bigint;
  /** What was captured (0 for refused, failed, cancelled and free calls). */
  chargeMicros: bigint;
}

export interface UsageSink {
  write(event: UsageEvent): Promise<void>;
}

/** Keeps events in memory (tests, dashboards of one process); the oldest are dropped past `eventsMax`. */
export class MemoryUsageSink implements UsageSink {
  readonly events: UsageEvent[] = [];
  constructor(readonly eventsMax = 100_000) {}
  async write(event: UsageEvent): Promise<void> {
    this.events.push(event);
    if (this.events.length > this.eventsMax) this.events.splice(0, this.events.length - this.eventsMax);
  }
}

/** One JSON object per line; bigints as decimal strings. */
export class JsonLinesUsageSink implements UsageSink {
  #queue: Promise<void> = Promise.resolve();
  constructor(readonly path: string) {}
  write(event: UsageEvent): Promise<void> {
    const line = `${JSON.stringify(event, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`;
    // Appends are chained so lines never interleave.
    this.#queue = this.#queue.then(() => appendFile(this.path, line)).catch(() => {});
    return this.#queue;
  }
}

/** Rows in `usage_events` (migration 005). */
export class PostgresUsageSink implements UsageSink {
  constructor(readonly db: Db) {}
  async write(event: UsageEvent): Promise<void> {
    await this.db.query(
      `INSERT INTO usage_events (at, edge, principal_id, grant_id, service, tool, status, code, call_id, latency_ms, units, charge_micros)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [event.at, event.edge, event.principalId, event.grantId, event.service, event.tool, event.status, event.code ?? null,
        event.callId ?? null, Math.round(event.latencyMs), event.units?.toString() ?? null, event.chargeMicros.toString()],
    );
  }
}

/** Writes to every sink; a failing sink does not stop the others or the call. */
export class UsageMeter implements UsageSink {
  failures = 0;
  constructor(readonly sinks: readonly UsageSink[] = []) {}
  async write(event: UsageEvent): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.write(event).catch(() => {
      this.failures++;
    })));
  }
}
