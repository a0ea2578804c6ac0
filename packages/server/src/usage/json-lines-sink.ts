/**
 * @module usage/json-lines-sink
 * One JSON object per line, bigints as decimal strings. Appending is at-least-once: a redelivered
 * event is appended again with the same `id`, so readers that need exactly once dedupe on it.
 */
import { appendFile } from 'node:fs/promises';
import type { UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';

export function usageJson(event: UsageEvent): string {
  return JSON.stringify(event, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export class JsonLinesUsageSink implements UsageSink {
  #queue: Promise<void> = Promise.resolve();
  constructor(readonly path: string) {}

  write(event: UsageEvent): Promise<void> {
    return this.#append(`${usageJson(event)}\n`);
  }

  async writeBatch(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
    if (events.length > 0) await this.#append(events.map((e) => `${usageJson(e)}\n`).join(''));
    return [];
  }

  /** Appends are chained so lines never interleave; a failed append rejects its own caller only. */
  #append(text: string): Promise<void> {
    const done = this.#queue.then(() => appendFile(this.path, text));
    this.#queue = done.catch(() => {});
    return done;
  }
}
