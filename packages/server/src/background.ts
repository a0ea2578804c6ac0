/**
 * @module background
 * Housekeeping a server runs while it is up: the ledger's hold-expiry sweeper, the guard's
 * reconcile (claims left by a crashed process, holds that expired unsettled) and approval expiry.
 */
import { startSweeper, type Tollgate } from '@tollgate/core';
import type { Logger } from './logger.ts';

export function startBackground(tg: Tollgate, options: { intervalSeconds: number; logger: Logger }): () => Promise<void> {
  if (options.intervalSeconds <= 0) return async () => {};
  const onError = (error: unknown) => options.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'background task failed');
  const stopSweeper = startSweeper(tg.ledger, { intervalMs: options.intervalSeconds * 1000, onError });
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = Promise.all([tg.guard.reconcile().catch(onError), tg.approvals.expireDue().catch(onError)]);
  }, options.intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
    await stopSweeper();
  };
}
