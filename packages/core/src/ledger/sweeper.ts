/**
 * @module ledger/sweeper
 * Releases holds whose timeout has passed, so a caller that crashed between hold and post does not
 * pin budget for ever. Expiry goes through the store's own writer, so it is ordered with every other
 * event; across processes, `FOR UPDATE SKIP LOCKED` lets several sweepers share the work.
 */
import { LEDGER_BATCH_SIZE_MAX } from '../constants.ts';
import type { Ledger } from './types.ts';

export interface SweeperOptions {
  /** Pause between sweeps when nothing is left to expire. */
  intervalMs: number;
  /** Holds released per call; a full sweep is repeated at once. */
  limit?: number;
  /** Called with an unexpected error; the sweeper keeps running. */
  onError?: (error: unknown) => void;
}

/** Starts sweeping; the returned function stops it and resolves once the sweep in flight ends. */
export function startSweeper(ledger: Ledger, options: SweeperOptions): () => Promise<void> {
  const { intervalMs, limit = LEDGER_BATCH_SIZE_MAX, onError = () => {} } = options;
  if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new Error('startSweeper: intervalMs must be a positive integer');
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const sweep = async (): Promise<void> => {
    try {
      // Keep going while full pages come back: a backlog drains without waiting an interval per page.
      while (!stopped && (await ledger.expirePending(limit)) === limit);
    } catch (error) {
      onError(error);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = sweep().then(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await inFlight;
  };
}
