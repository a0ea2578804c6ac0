/**
 * @module usage/memory-sink
 * Events in memory: tests, and the live view of one process. Events with an id are kept once (a
 * redelivery from the outbox drainer is absorbed), so a test can count exactly what arrived.
 */
import type { UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';

/** Keeps events in memory; the oldest are dropped past `eventsMax`. */
export class MemoryUsageSink implements UsageSink {
  readonly events: UsageEvent[] = [];
  /** Deliveries of an id already held (redeliveries the sink absorbed). */
  duplicates = 0;
  readonly #ids = new Set<string>();
  constructor(readonly eventsMax = 100_000) {}

  async write(event: UsageEvent): Promise<void> {
    if (event.id !== undefined) {
      if (this.#ids.has(event.id)) {
        this.duplicates++;
        return;
      }
      this.#ids.add(event.id);
    }
    this.events.push(event);
    if (this.events.length > this.eventsMax) {
      for (const dropped of this.events.splice(0, this.events.length - this.eventsMax)) if (dropped.id !== undefined) this.#ids.delete(dropped.id);
    }
  }

  async writeBatch(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
    for (const event of events) await this.write(event);
    return [];
  }
}
