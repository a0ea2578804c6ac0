/**
 * @module usage/deliver
 * Hands a batch to a sink: through `writeBatch` when it has one, else one `write` at a time. A
 * one-at-a-time delivery that fails part way says how many went through, so a caller that keeps
 * its own queue does not send those again.
 */
import type { UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';

/** A delivery that failed after `delivered` events of the batch were taken. */
export class PartialDelivery extends Error {
  constructor(readonly delivered: number, override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'PartialDelivery';
  }

  get retryAfterMs(): number | undefined {
    const value = (this.cause as { retryAfterMs?: unknown } | null)?.retryAfterMs;
    return typeof value === 'number' ? value : undefined;
  }
}

export async function deliver(sink: UsageSink, events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
  if (events.length === 0) return [];
  if (sink.writeBatch) return sink.writeBatch(events);
  for (let i = 0; i < events.length; i++) {
    try {
      await sink.write(events[i]!);
    } catch (error) {
      throw new PartialDelivery(i, error);
    }
  }
  return [];
}
