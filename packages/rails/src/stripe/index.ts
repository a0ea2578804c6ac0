/**
 * @module stripe
 * Stripe metered billing: captured usage reported as Stripe meter events, and the customer mapping
 * that says who pays. See packages/rails/README.md (Stripe).
 */
export { StripeCustomers, STRIPE_CUSTOMER_ID, CUSTOMER_CACHE_MS, type CustomerMapping, type CustomerSubject } from './customers.ts';
export { StripeMeterSink, STRIPE_CONCURRENCY_MAX, type StripeMeterSinkOptions } from './meter-sink.ts';
export { StripeMeterStreamSink, STREAM_EVENTS_MAX, type StripeMeterStreamSinkOptions } from './meter-stream-sink.ts';
export { StripeUnavailable, prepareMeterEvents, type MeterValue, type MeterEventInput } from './meter-events.ts';
export { openStripe, type OpenStripeOptions } from './client.ts';
export { LocalStripe, type LocalStripeFailure, type ReceivedMeterEvent } from './local-stripe.ts';
