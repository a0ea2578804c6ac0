/**
 * @module webhooks/dispatcher
 * A background loop that sends due webhook deliveries. One round at a time (never overlapping);
 * a full round runs again at once so a backlog drains quickly, an idle one waits `intervalMs`.
 */
import { WEBHOOK_ROUND_SIZE_MAX, type Webhooks } from './webhooks.ts';

export interface DispatcherOptions {
  webhooks: Webhooks;
  intervalMs?: number;
  fetch?: typeof fetch;
  /** Called when a round throws (e.g. the database is down); the loop keeps going. */
  onError?: (error: unknown) => void;
}

/** Starts the loop; the returned function stops it and resolves once the current round ends. */
export function startWebhookDispatcher(options: DispatcherOptions): () => Promise<void> {
  const intervalMs = options.intervalMs ?? 1_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> = Promise.resolve();
  const tick = () => {
    round = (async () => {
      let full = false;
      try {
        const report = await options.webhooks.deliverDue(options.fetch ? { fetch: options.fetch } : {});
        full = report.attempted >= WEBHOOK_ROUND_SIZE_MAX;
      } catch (error) {
        options.onError?.(error);
      }
      if (!stopped) timer = setTimeout(tick, full ? 0 : intervalMs);
    })();
  };
  tick();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await round;
  };
}
