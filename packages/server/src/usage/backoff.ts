/**
 * @module usage/backoff
 * Exponential backoff with full jitter (a random delay between 0 and the capped exponential), so
 * many processes retrying one failed downstream do not retry in step. A downstream that says when
 * to come back (`Retry-After`) is believed, within the cap.
 */

export interface BackoffOptions {
  /** Delay scale of the first retry. */
  baseMs?: number;
  /** Longest delay between two attempts. */
  delayMsMax?: number;
  /** Random source in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

export const BACKOFF_BASE_MS = 200;
export const BACKOFF_DELAY_MS_MAX = 60_000;

/** The delay before retry number `attempt` (1 = the first retry). */
export function backoffDelayMs(attempt: number, options: BackoffOptions = {}, retryAfterMs?: number): number {
  const { baseMs = BACKOFF_BASE_MS, delayMsMax = BACKOFF_DELAY_MS_MAX, random = Math.random } = options;
  const exponential = Math.min(delayMsMax, baseMs * 2 ** Math.min(attempt - 1, 30));
  const jittered = Math.round(exponential * random());
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) return Math.min(delayMsMax, Math.max(jittered, retryAfterMs));
  return jittered;
}

/** `retryAfterMs` a sink attached to its error (a 429 or 503 that said when to come back). */
export function retryAfterMsOf(error: unknown): number | undefined {
  const value = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof value === 'number' ? value : undefined;
}
