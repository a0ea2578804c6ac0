/**
 * @module stripe/meter-stream-sink
 * Captured usage through Stripe's v2 meter event stream (`POST /v2/billing/meter_event_stream`, up
 * to 100 events per request), for deployments whose capture rate outgrows v1's one request per
 * event. Requests carry a meter event session token (valid 15 minutes), which this sink creates
 * with the secret key and renews before it expires, or at once when Stripe says it expired.
 *
 * The trade-off against v1 (`meter-sink.ts`): Stripe validates stream events asynchronously, so an
 * event it cannot bill (an unknown customer) is reported later, through Stripe's
 * `v1.billing.meter.error_report_triggered` events, not set aside here; the request itself only
 * fails for transport reasons (429, 5xx, timeouts, auth), which fail the batch for a retry. Every
 * event carries its capture id as `identifier`, which Stripe deduplicates on, so a retried batch
 * is counted once.
 */
import type Stripe from 'stripe';
import type { UsageEvent, UsageRejection, UsageSink } from '@tollgate/core';
import type { StripeCustomers } from './customers.ts';
import { prepareMeterEvents, unavailable, type MeterEventInput, type MeterValue, type StripeErrorLike } from './meter-events.ts';

/** Most events in one stream request (Stripe's limit). */
export const STREAM_EVENTS_MAX = 100;
/** A session is renewed this long before Stripe's expiry. */
const SESSION_RENEW_MS = 60_000;

export interface StripeMeterStreamSinkOptions {
  /** A client with the secret key: creates sessions. */
  stripe: Stripe;
  /** A client for a session token (same host, port and protocol as `stripe`). */
  sessionClient: (token: string) => Stripe;
  customers: StripeCustomers;
  eventName: string;
  value?: MeterValue;
}

export class StripeMeterStreamSink implements UsageSink {
  /** Events the stream accepted. */
  sent = 0;
  skipped = 0;
  /** Sessions created (the first, renewals, and replacements of expired ones). */
  sessions = 0;
  readonly #o: StripeMeterStreamSinkOptions;
  #session: { client: Stripe; renewAtMs: number } | undefined;

  constructor(options: StripeMeterStreamSinkOptions) {
    this.#o = options;
  }

  async write(event: UsageEvent): Promise<void> {
    const [rejected] = await this.writeBatch([event]);
    if (rejected) throw new Error(`Stripe refused ${rejected.id}: ${rejected.reason}`);
  }

  async writeBatch(events: readonly UsageEvent[]): Promise<readonly UsageRejection[]> {
    const { ready, skipped, rejected } = await prepareMeterEvents(events, this.#o.customers, this.#o.value ?? 'charge_micros');
    this.skipped += skipped;
    for (let i = 0; i < ready.length; i += STREAM_EVENTS_MAX) await this.#send(ready.slice(i, i + STREAM_EVENTS_MAX));
    return rejected;
  }

  /** One stream request; a session Stripe calls expired is replaced and the request sent once more. */
  async #send(chunk: readonly MeterEventInput[]): Promise<void> {
    const events = chunk.map((e) => ({
      event_name: this.#o.eventName, identifier: e.id, timestamp: e.at.toISOString(),
      payload: { stripe_customer_id: e.customerId, value: e.value },
    }));
    for (let attempt = 1; ; attempt++) {
      try {
        const client = await this.#client();
        await client.v2.billing.meterEventStream.create({ events });
        this.sent += chunk.length;
        return;
      } catch (error) {
        const e = error as StripeErrorLike;
        const expired = e.type === 'TemporarySessionExpiredError' || e.statusCode === 401;
        if (expired) this.#session = undefined;
        if (!expired || attempt >= 2) throw unavailable(error);
      }
    }
  }

  async #client(): Promise<Stripe> {
    if (this.#session && Date.now() < this.#session.renewAtMs) return this.#session.client;
    const session = await this.#o.stripe.v2.billing.meterEventSession.create().catch((error: unknown) => {
      throw unavailable(error);
    });
    this.sessions++;
    this.#session = { client: this.#o.sessionClient(session.authentication_token), renewAtMs: new Date(session.expires_at).getTime() - SESSION_RENEW_MS };
    return this.#session.client;
  }
}
