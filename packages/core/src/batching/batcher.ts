/**
 * @module batching/batcher
 * Group commit for any statement that many concurrent callers run with different values: callers
 * submit items; while one batch runs, new items queue; the next batch takes everything queued (up to
 * `sizeMax`) and runs it as ONE statement. With no timer there is no added latency at low load (a
 * lone item runs at once), and batches grow with concurrency on their own.
 */

export interface BatcherOptions {
  /** Most items per batch; bounds statement size and worst-case latency. */
  sizeMax: number;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/** Runs a batch; must return one result per item, in order. */
export type BatchRunner<I, O> = (items: readonly I[]) => Promise<readonly O[]>;

export class Batcher<I, O> {
  readonly #run: BatchRunner<I, O>;
  readonly #sizeMax: number;
  #queue: Pending<I, O>[] = [];
  #running = false;

  constructor(run: BatchRunner<I, O>, options: BatcherOptions) {
    if (!Number.isInteger(options.sizeMax) || options.sizeMax < 1) throw new Error('Batcher: sizeMax must be a positive integer');
    this.#run = run;
    this.#sizeMax = options.sizeMax;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#sizeMax);
        try {
          const results = await this.#run(batch.map((p) => p.item));
          if (results.length !== batch.length) throw new Error(`Batcher: runner returned ${results.length} results for ${batch.length} items`);
          batch.forEach((p, i) => p.resolve(results[i]!));
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.#running = false;
    }
  }
}
