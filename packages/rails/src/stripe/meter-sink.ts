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
 * v1 is the default over the v2 meter event stream (`meter-stream-sink.ts`, 100 events per
 * request) because it validates each event synchronously: a bad event is known and set aside at
 * once, while the stream reports validation failures later, as Stripe events. At the rates one
 * Tollgate deployment captures, bounded concurrency over v1 (Stripe allows 1,000 meter event
 * requests/s in live mode) is enough.
 */
import type Stripe from 'stripe';
import type { UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';
import type { StripeCustomers } from './customers.ts';
import { prepareMeterEvents, StripeUnavailable, unavailable, type MeterEventInput, type MeterValue, type StripeErrorLike } from './meter-events.ts';

/** Requests in flight at once per batch. */
export const STRIPE_CONCURRENCY_MAX = 8;

export interface StripeMeterSinkOptions {
  stripe: Stripe;
  customers: StripeCustomers;
  /** The meter's `event_name`. */
  eventName: string;
  value?: MeterValue;
  concurrency?: number;
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
    const { ready, skipped, rejected } = await prepareMeterEvents(events, this.#o.customers, this.#o.value);
    this.skipped += skipped;
    let failure: StripeUnavailable | undefined;
    let next = 0;
    const lane = async () => {
      while (next < ready.length && !failure) {
        const outcome = await this.#send(ready[next++]!);
        if (outcome instanceof StripeUnavailable) failure ??= outcome;
        else if (outcome) rejected.push(outcome);
        else this.sent++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#o.concurrency, ready.length) }, lane));
    if (failure) throw failure;
    return rejected;
  }

  /** Undefined when accepted, a rejection when Stripe refused this event, StripeUnavailable to retry the batch. */
  async #send(event: MeterEventInput): Promise<UsageRejection | StripeUnavailable | undefined> {
    try {
      await this.#o.stripe.billing.meterEvents.create({
        event_name: this.#o.eventName,
        payload: { stripe_customer_id: event.customerId, value: event.value },
        identifier: event.id,
        timestamp: Math.floor(event.at.getTime() / 1000),
      });
      return undefined;
    } catch (error) {
      return classify(event.id, error);
    }
  }
}

/** How Stripe says it already holds an event with this identifier. */
const DUPLICATE_MESSAGE = /already exists with identifier/i;
const DUPLICATE_CODES = new Set(['resource_already_exists', 'duplicate_meter_event']);

function classify(id: string, error: unknown): UsageRejection | StripeUnavailable | undefined {
  const e = error as StripeErrorLike;
  // Stripe already holds an event with this identifier: this capture is in Stripe.
  if (DUPLICATE_CODES.has(e.code ?? '') || (e.statusCode === 400 && DUPLICATE_MESSAGE.test(e.message ?? ''))) return undefined;
  const status = e.statusCode ?? 0;
  if (e.type === 'StripeInvalidRequestError' && status >= 400 && status < 500 && status !== 429 && status !== 409) {
    return { id, reason: `stripe ${status} ${e.code ?? ''}: ${e.message ?? ''}`.slice(0, 500) };
  }
  return unavailable(error);
}
