/**
 * @module ledger/writer
 * Group commit: the single writer of a store. Requests queue; when the writer is idle the first one
 * starts a batch at once (no linger timer, so a lone request waits for nothing); while a batch
 * commits, new requests queue, and the next batch takes all of them up to `LEDGER_BATCH_SIZE_MAX`
 * events. A request is never split across batches. Callers' promises resolve only after COMMIT.
 *
 * A batch that fails as a whole (a bug, a constraint, a lost connection) is bisected, order kept,
 * until the request that poisons it fails alone; every other request gets the result it would have
 * had on its own.
 */
import { LEDGER_BATCH_SIZE_MAX } from '../constants.ts';

export interface WriterRequest<R = unknown> {
  /** Events this request applies; counted against the batch size. */
  readonly size: number;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/** Runs one batch in one transaction; returns one result per request, in order. */
export type BatchRunner<Q extends WriterRequest> = (requests: readonly Q[]) => Promise<unknown[]>;

export interface WriterOptions {
  batchSizeMax?: number;
}

export interface WriterStats {
  batches: number;
  requests: number;
  events: number;
  bisects: number;
}

export class Writer<Q extends WriterRequest> {
  readonly #run: BatchRunner<Q>;
  readonly #sizeMax: number;
  #queue: Q[] = [];
  #active = false;
  #running: Promise<void> = Promise.resolve();
  readonly stats: WriterStats = { batches: 0, requests: 0, events: 0, bisects: 0 };

  constructor(run: BatchRunner<Q>, options: WriterOptions = {}) {
    this.#run = run;
    this.#sizeMax = options.batchSizeMax ?? LEDGER_BATCH_SIZE_MAX;
  }

  submit(request: Q): void {
    this.#queue.push(request);
    // The flag is cleared in the same synchronous step as the drain loop's last queue check, so a
    // request pushed after that check always starts a new drain (no lost wake-up).
    if (!this.#active) {
      this.#active = true;
      this.#running = this.#drain();
    }
  }

  /** Resolves when everything queued so far has committed (or failed). */
  async idle(): Promise<void> {
    while (this.#active) await this.#running;
  }

  #take(): Q[] {
    let events = 0;
    let count = 0;
    while (count < this.#queue.length) {
      const size = this.#queue[count]!.size;
      if (count > 0 && events + size > this.#sizeMax) break;
      events += size;
      count += 1;
    }
    return this.#queue.splice(0, count);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#take();
        await this.#commit(batch);
        // One macrotask turn lets the callers just resolved submit their next request (their
        // continuations are microtasks), so it joins the next batch instead of waiting a whole batch
        // more; on PGlite it also lets timers and sockets run. It is not a linger: nothing waits for
        // a timer.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#active = false;
    }
  }

  async #commit(batch: readonly Q[]): Promise<void> {
    let results: unknown[];
    try {
      results = await this.#run(batch);
      if (results.length !== batch.length) throw new Error(`ledger writer: ${results.length} results for ${batch.length} requests`);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      this.stats.bisects += 1;
      const middle = batch.length >>> 1;
      await this.#commit(batch.slice(0, middle));
      await this.#commit(batch.slice(middle));
      return;
    }
    this.stats.batches += 1;
    this.stats.requests += batch.length;
    for (const r of batch) this.stats.events += r.size;
    batch.forEach((r, i) => r.resolve(results[i]));
  }
}
