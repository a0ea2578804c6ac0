/**
 * @module usage
 * The metering seam: every call an edge sees becomes one `UsageEvent` (refused calls too, with
 * their code, and a charge of zero) fanned out to sinks. Sinks never throw into the call path: a
 * sink that fails is counted and logged by its owner, and the paid call goes on.
 */
import { appendFile } from 'node:fs/promises';
import type { Db, UsageEvent, UsageSink } from '@tollgate/core';

export { proxyUsage } from './proxy-meter.ts';

export type { UsageEvent, UsageRejection, UsageSink, UsageStatus } from '@tollgate/core';

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

/** Most events one INSERT carries. */
export const USAGE_BATCH_MAX = 200;
/** Most events waiting for the database; past it the oldest are dropped (and counted). */
export const USAGE_BUFFER_MAX = 10_000;
/** How long an event may wait before its batch is written. */
const USAGE_FLUSH_MS = 100;

/**
 * Rows in `usage_events` (migration 005), written in batches off the call path: a paid call never
 * waits for its usage row, and one INSERT carries up to `USAGE_BATCH_MAX` events.
 */
export class PostgresUsageSink implements UsageSink {
  dropped = 0;
  #buffer: UsageEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  constructor(readonly db: Db) {}

  async write(event: UsageEvent): Promise<void> {
    this.#buffer.push(event);
    if (this.#buffer.length > USAGE_BUFFER_MAX) this.dropped += this.#buffer.splice(0, this.#buffer.length - USAGE_BUFFER_MAX).length;
    if (this.#buffer.length >= USAGE_BATCH_MAX) void this.flush();
    else this.#timer ??= setTimeout(() => void this.flush(), USAGE_FLUSH_MS);
  }

  /** Writes everything buffered so far. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing = this.#writing.then(async () => {
      while (this.#buffer.length > 0) await this.#insert(this.#buffer.splice(0, USAGE_BATCH_MAX)).catch(() => {});
    });
    return this.#writing;
  }

  async #insert(events: UsageEvent[]): Promise<void> {
    const params: unknown[] = [];
    const rows = events.map((e) => {
      params.push(e.at, e.edge, e.principalId, e.grantId, e.service, e.tool, e.status, e.code ?? null, e.callId ?? null,
        Math.round(e.latencyMs), e.units?.toString() ?? null, e.chargeMicros.toString());
      const base = params.length - 12;
      return `(${Array.from({ length: 12 }, (_, i) => `$${base + i + 1}`).join(', ')})`;
    });
    await this.db.query(
      `INSERT INTO usage_events (at, edge, principal_id, grant_id, service, tool, status, code, call_id, latency_ms, units, charge_micros) VALUES ${rows.join(', ')}`,
      params,
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

  async flush(): Promise<void> {
    await Promise.all(this.sinks.map((s) => s.flush?.().catch(() => {})));
  }
}
