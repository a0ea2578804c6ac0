/**
 * @module webhooks
 * HMAC-signed webhooks through a transactional outbox, a dispatcher with retries, and the
 * signature check receivers use.
 */
export {
  Webhooks,
  eventMatches,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_ATTEMPTS_MAX,
  type WebhookEventType,
  type WebhookEndpoint,
  type WebhookDelivery,
  type WebhookEnvelope,
  type WebhookEvent,
  type WebhooksOptions,
  type DeliverOptions,
  type DeliverReport,
  type DeliveryState,
} from './webhooks.ts';
export { startWebhookDispatcher, type DispatcherOptions } from './dispatcher.ts';
export {
  verifyWebhookSignature,
  signWebhook,
  SIGNATURE_HEADER,
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  SIGNATURE_TOLERANCE_SECONDS_DEFAULT,
  type SignatureCheck,
} from './signature.ts';
