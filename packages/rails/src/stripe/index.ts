/**
 * @module stripe
 * Stripe metered billing: captured usage reported as Stripe meter events, and the customer mapping
 * that says who pays. See packages/rails/README.md (Stripe).
 */
export { StripeCustomers, STRIPE_CUSTOMER_ID, CUSTOMER_CACHE_MS, type CustomerMapping, type CustomerSubject } from './customers.ts';
export { StripeMeterSink, StripeUnavailable, STRIPE_CONCURRENCY_MAX, type MeterValue, type StripeMeterSinkOptions } from './meter-sink.ts';
export { openStripe, type OpenStripeOptions } from './client.ts';
export { LocalStripe, type LocalStripeFailure, type ReceivedMeterEvent } from './local-stripe.ts';
