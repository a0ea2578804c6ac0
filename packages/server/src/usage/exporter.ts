/**
 * @module usage/exporter
 * The background loop that exports captured usage: fill the outbox from the audit log, then let
 * each sink's drainer catch up. A sink that fails waits (exponential backoff with jitter, or what
 * its `Retry-After` said) while the others go on; its events stay in the outbox, so a sink that is
 * down for hours loses nothing and catches up when it returns. Nothing here is on a call's path.
 */
import type { Db, UsageSink } from '@tollgate/core';
import type { Logger } from '../logger.ts';
import { backoffDelayMs, retryAfterMsOf, type BackoffOptions } from './backoff.ts';
import { OutboxDrainer, type OutboxDrainerOptions } from './outbox-drainer.ts';
import { UsageOutbox } from './outbox.ts';

/** Pause between export rounds when everything is caught up. */
export const EXPORT_INTERVAL_MS = 1_000;

export interface UsageExporterOptions {
  db: Db;
  /** Downstream sinks by stable name (the name keys the sink's cursor: keep it across restarts). */
  sinks: Readonly<Record<string, UsageSink>>;
  intervalMs?: number;
  backoff?: BackoffOptions;
  logger?: Logger;
  drainer?: Pick<OutboxDrainerOptions, 'batchMax' | 'leaseMs'>;
}

interface SinkState {
  drainer: OutboxDrainer;
  attempt: number;
  notBeforeMs: number;
}

export interface SinkStatus {
  name: string;
  /** Failed attempts in a row (0 when the last delivery worked). */
  failingAttempts: number;
  /** When the next attempt may run, if the sink is backing off. */
  retryAt?: Date;
}

export class UsageExporter {
  readonly outbox: UsageOutbox;
  readonly #o: UsageExporterOptions;
  readonly #sinks: SinkState[];
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: UsageExporterOptions) {
    this.#o = options;
    this.outbox = new UsageOutbox(options.db);
    this.#sinks = Object.entries(options.sinks).map(([name, sink]) => ({
      drainer: new OutboxDrainer({ db: options.db, outbox: this.outbox, name, sink, ...options.drainer }),
      attempt: 0,
      notBeforeMs: 0,
    }));
  }

  /** One round: fill the outbox, then every sink that is not backing off drains to the end. */
  async runOnce(): Promise<void> {
    while ((await this.outbox.fill()) > 0);
    const now = Date.now();
    await Promise.all(this.#sinks.filter((s) => s.notBeforeMs <= now).map((s) => this.#drain(s)));
  }

  async #drain(state: SinkState): Promise<void> {
    try {
      await state.drainer.drain();
      state.attempt = 0;
      state.notBeforeMs = 0;
    } catch (error) {
      state.attempt++;
      const delayMs = backoffDelayMs(state.attempt, this.#o.backoff, retryAfterMsOf(error));
      state.notBeforeMs = Date.now() + delayMs;
      this.#o.logger?.warn({ sink: state.drainer.name, attempt: state.attempt, retryInMs: delayMs, err: (error as Error)?.message ?? String(error) }, 'usage export failed; retrying');
    }
  }

  status(): SinkStatus[] {
    return this.#sinks.map((s) => ({ name: s.drainer.name, failingAttempts: s.attempt, ...(s.notBeforeMs > Date.now() ? { retryAt: new Date(s.notBeforeMs) } : {}) }));
  }

  /** Runs rounds every `intervalMs` until stopped; returns the stop function. */
  start(): () => Promise<void> {
    const tick = () => {
      this.#round = this.runOnce()
        .catch((error: unknown) => this.#o.logger?.warn({ err: (error as Error)?.message ?? String(error) }, 'usage outbox fill failed'))
        .finally(() => {
          if (!this.#stopped) {
            this.#timer = setTimeout(tick, this.#o.intervalMs ?? EXPORT_INTERVAL_MS);
            this.#timer.unref();
          }
        });
    };
    tick();
    return () => this.stop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#round;
    await Promise.all(this.#sinks.map((s) => s.drainer.release().catch(() => {})));
  }
}
