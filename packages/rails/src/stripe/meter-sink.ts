/**
 * @module stripe/meter-sink
 * Captured usage as Stripe meter events (`POST /v1/billing/meter_events` through the `stripe`
 * package): `event_name`, `payload.stripe_customer_id`, `payload.value`, `timestamp` = the capture's
 * time, and `identifier` = the capture id, which Stripe deduplicates on: a retry of an event Stripe
 * already holds is refused with "An event already exists with identifier …" (400,
 * `Stripe-Should-Retry: false`), which proves delivery, so the sink counts it as delivered. No
 * `Idempotency-Key` is sent: Stripe replays a key's first answer for 24 hours, a 500 included, which
 * would turn one Stripe hiccup into a day of failed retries; the identifier alone makes retries safe.
 *
 * The sink is fed by the usage outbox drainer, which owns batching, retries and the cursor: this
 * module only sends a batch (a bounded number of requests in flight) and classifies what came back.
 * Rate limits (429, with `Retry-After`), 5xx, timeouts, connection errors and authentication
 * problems fail the whole batch (it is retried; what already went through is deduplicated); a 400
 * about one event (unknown customer, timestamp out of range, …) sets that event aside.
 *
 * Why v1 and not the v2 meter event stream: v1 validates each event synchronously, so a bad event
 * is known and set aside at once, while the v2 stream (100 events per request, 10,000 req/s) reports
 * validation failures asynchronously, through events, and needs a 15-minute session token. At the
 * rates one Tollgate deployment captures, bounded concurrency over v1 (Stripe allows 1,000 meter
 * event requests/s in live mode) is enough and simpler to keep exactly once.
 */
import type Stripe from 'stripe';
import type { UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';
import type { StripeCustomers } from './customers.ts';

/** What `payload.value` carries. */
export type MeterValue = 'charge_micros' | 'units' | 'calls';

/** Requests in flight at once per batch. */
export const STRIPE_CONCURRENCY_MAX = 8;
/** Stripe's limit on `identifier`. */
const IDENTIFIER_LENGTH_MAX = 100;
/** Oldest event Stripe accepts (35 days), less an hour so a request in flight is not refused at the edge. */
const EVENT_AGE_MS_MAX = 35 * 24 * 3600 * 1000 - 3600 * 1000;

export interface StripeMeterSinkOptions {
  stripe: Stripe;
  customers: StripeCustomers;
  /** The meter's `event_name`. */
  eventName: string;
  value?: MeterValue;
  concurrency?: number;
}

/** A failure worth retrying later; `retryAfterMs` when Stripe said when. */
export class StripeUnavailable extends Error {
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StripeUnavailable';
  }
}

export class StripeMeterSink implements UsageSink {
  /** Events sent and accepted. */
  sent = 0;
  /** Events not reported: no Stripe customer for the principal, or a value of zero. */
  skipped = 0;
  readonly #o: Required<StripeMeterSinkOptions>;

  constructor(options: StripeMeterSinkOptions) {
    this.#o = { value: 'charge_micros', concurrency: STRIPE_CONCURRENCY_MAX, ...options };
  }

  async write(event: UsageEvent): Promise<void> {
    const [rejected] = await this.writeBatch([event]);
    if (rejected) throw new Error(`Stripe refused ${rejected.id}: ${rejected.reason}`);
  }

  async writeBatch(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
    const customers = await this.#o.customers.resolve(events.map((e) => ({ userId: e.principalId, orgId: e.orgId })));
    const work: { event: UsageEvent; customerId: string; value: bigint }[] = [];
    const rejected: UsageRejection[] = [];
    events.forEach((event, i) => {
      const customerId = customers[i];
      const value = this.#valueOf(event);
      if (!customerId || value === 0n) this.skipped++;
      else if (!event.id || event.id.length > IDENTIFIER_LENGTH_MAX) rejected.push({ id: event.id ?? '', reason: 'a meter event needs a capture id of at most 100 characters' });
      else if (Date.now() - event.at.getTime() > EVENT_AGE_MS_MAX) rejected.push({ id: event.id, reason: 'older than Stripe accepts meter events (35 days)' });
      else work.push({ event, customerId, value });
    });
    let failure: StripeUnavailable | undefined;
    let next = 0;
    const lane = async () => {
      while (next < work.length && !failure) {
        const item = work[next++]!;
        const outcome = await this.#send(item.event, item.customerId, item.value);
        if (outcome instanceof StripeUnavailable) failure ??= outcome;
        else if (outcome) rejected.push(outcome);
        else this.sent++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, work.length) }, lane));
    if (failure) throw failure;
    return rejected;
  }

  #valueOf(event: UsageEvent): bigint {
    if (this.#o.value === 'calls') return 1n;
    if (this.#o.value === 'units') return event.units ?? 0n;
    return event.chargeMicros;
  }

  /** Undefined when accepted, a rejection when Stripe refused this event, StripeUnavailable to retry the batch. */
  async #send(event: UsageEvent, customerId: string, value: bigint): Promise<UsageRejection | StripeUnavailable | undefined> {
    try {
      await this.#o.stripe.billing.meterEvents.create(
        {
          event_name: this.#o.eventName,
          payload: { stripe_customer_id: customerId, value: value.toString() },
          identifier: event.id!,
          timestamp: Math.floor(event.at.getTime() / 1000),
        },
      );
      return undefined;
    } catch (error) {
      return classify(event.id!, error);
    }
  }
}

/** How Stripe says it already holds an event with this identifier. */
const DUPLICATE_MESSAGE = /already exists with identifier/i;
const DUPLICATE_CODES = new Set(['resource_already_exists', 'duplicate_meter_event']);

function classify(id: string, error: unknown): UsageRejection | StripeUnavailable | undefined {
  const e = error as { type?: string; statusCode?: number; code?: string; message?: string; headers?: Record<string, string> };
  // Stripe already holds an event with this identifier: this capture is in Stripe.
  if (DUPLICATE_CODES.has(e.code ?? '') || (e.statusCode === 400 && DUPLICATE_MESSAGE.test(e.message ?? ''))) return undefined;
  const status = e.statusCode ?? 0;
  if (e.type === 'StripeInvalidRequestError' && status >= 400 && status < 500 && status !== 429 && status !== 409) {
    return { id, reason: `stripe ${status} ${e.code ?? ''}: ${e.message ?? ''}`.slice(0, 500) };
  }
  const retryAfterSeconds = Number(e.headers?.['retry-after']);
  return new StripeUnavailable(`stripe unavailable: ${e.type ?? 'error'} ${status || ''} ${e.message ?? String(error)}`.trim(), Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : undefined, { cause: error });
}
