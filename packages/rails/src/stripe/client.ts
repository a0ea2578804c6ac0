/**
 * @module stripe/client
 * A `stripe` client for the meter sink. The package's own retries are off: the usage outbox
 * drainer retries with backoff and jitter and keeps the events while Stripe is down, so two retry
 * loops would only multiply the requests. `apiBase` points the real client at another endpoint
 * (a local one in tests: the package supports host, port and protocol).
 */
import Stripe from 'stripe';

/** Longest one Stripe request may take. */
export const STRIPE_TIMEOUT_MS = 10_000;

export interface OpenStripeOptions {
  secretKey: string;
  /** e.g. `http://127.0.0.1:12111`; defaults to Stripe's own hosts. */
  apiBase?: string;
  timeoutMs?: number;
}

export function openStripe(options: OpenStripeOptions): Stripe {
  const base = options.apiBase ? new URL(options.apiBase) : undefined;
  return new Stripe(options.secretKey, {
    maxNetworkRetries: 0,
    timeout: options.timeoutMs ?? STRIPE_TIMEOUT_MS,
    telemetry: false,
    ...(base ? { host: base.hostname, port: Number(base.port || (base.protocol === 'http:' ? 80 : 443)), protocol: base.protocol === 'http:' ? 'http' : 'https' } : {}),
  });
}
