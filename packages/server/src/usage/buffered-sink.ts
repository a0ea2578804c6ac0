/**
 * @module usage/buffered-sink
 * Puts a sink off the call path: `write` only appends to a bounded in-memory queue and never
 * rejects; one loop delivers the queue in order, in batches (by default no linger timer: the first
 * event goes at once, the ones that arrive meanwhile go together next; `lingerMs` lets a batch that
 * is not full wait that long for more, for sinks where each delivery is costly), and retries a failing sink with
 * exponential backoff and jitter until it recovers. Events leave the queue only once the sink took
 * them, so a sink that fails and recovers loses nothing. The queue is bounded: past `bufferMax`
 * the oldest are dropped and counted (`dropped`) — usage that must never be lost (captured,
 * billable usage) goes through the Postgres outbox instead (`usage/outbox.ts`).
 */
import type { UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';
import { backoffDelayMs, retryAfterMsOf, type BackoffOptions } from './backoff.ts';
import { deliver, PartialDelivery } from './deliver.ts';

/** Most events one delivery carries. */
export const USAGE_BATCH_MAX = 200;
/** Most events waiting for a sink; past it the oldest are dropped (and counted). */
export const USAGE_BUFFER_MAX = 10_000;

export interface BufferedUsageSinkOptions {
  batchMax?: number;
  bufferMax?: number;
  backoff?: BackoffOptions;
  /** How long a delivery that is not full waits for more events (0, the default: none); `flush()` cuts it short. */
  lingerMs?: number;
  /** Told about each failed attempt (the sink is retried) and each refused event (set aside). */
  onError?: (error: unknown) => void;
  onReject?: (rejections: readonly UsageRejection[]) => void;
}

export class BufferedUsageSink implements UsageSink {
  /** Events dropped because the queue was full. */
  dropped = 0;
  /** Failed delivery attempts (each retried). */
  failures = 0;
  readonly #inner: UsageSink;
  readonly #o: BufferedUsageSinkOptions;
  #queue: UsageEvent[] = [];
  #draining: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(inner: UsageSink, options: BufferedUsageSinkOptions = {}) {
    this.#inner = inner;
    this.#o = options;
  }

  /** Events not yet taken by the sink. */
  get pending(): number {
    return this.#queue.length;
  }

  async write(event: UsageEvent): Promise<void> {
    if (this.#closed) return;
    this.#queue.push(event);
    const over = this.#queue.length - (this.#o.bufferMax ?? USAGE_BUFFER_MAX);
    if (over > 0) {
      // Drop from behind the batch in flight (index 0 onwards is only read by the loop after it
      // finishes), so the loop's bookkeeping of what it delivered stays right.
      this.#queue.splice(this.#inFlight, over);
      this.dropped += over;
    }
    this.#draining ??= this.#drain();
  }

  /** Resolves once the queue is empty, or the sink failed and the rest waits for a retry. */
  async flush(): Promise<void> {
    this.#retryNow();
    while (this.#draining && this.#queue.length > 0 && !this.#waiting) await new Promise<void>((resolve) => this.#progress.push(resolve));
    await this.#inner.flush?.();
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    this.#retryNow();
    await this.#draining;
    await this.#inner.close?.();
  }

  #inFlight = 0;
  #waiting = false;
  /** Waiters told after every delivery attempt (and when the loop ends). */
  #progress: (() => void)[] = [];

  #notify(): void {
    for (const resolve of this.#progress.splice(0)) resolve();
  }

  #retryNow(): void {
    clearTimeout(this.#timer);
    this.#wake?.();
  }

  async #drain(): Promise<void> {
    let attempt = 0;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const batchMax = this.#o.batchMax ?? USAGE_BATCH_MAX;
        if ((this.#o.lingerMs ?? 0) > 0 && attempt === 0 && this.#queue.length < batchMax) await this.#sleep(this.#o.lingerMs!);
        const batch = this.#queue.slice(0, batchMax);
        this.#inFlight = batch.length;
        let failure: unknown;
        try {
          const rejected = await deliver(this.#inner, batch);
          if (rejected.length > 0) this.#o.onReject?.(rejected);
          this.#queue.splice(0, batch.length);
          attempt = 0;
        } catch (error) {
          if (error instanceof PartialDelivery) this.#queue.splice(0, error.delivered);
          failure = error;
        }
        this.#inFlight = 0;
        if (failure !== undefined) {
          this.failures++;
          this.#o.onError?.(failure);
          attempt++;
          this.#waiting = true;
        }
        this.#notify();
        if (failure !== undefined) await this.#sleep(backoffDelayMs(attempt, this.#o.backoff, retryAfterMsOf(failure)));
      }
    } finally {
      this.#draining = undefined;
      this.#notify();
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#waiting = false;
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      this.#timer = setTimeout(done, ms);
      this.#timer.unref();
    });
  }
}
