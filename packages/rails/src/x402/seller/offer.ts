/**
 * @module x402/seller/offer
 * What a service asks for: the `PaymentRequirements` (v2) built from its x402 setting and the price
 * its price table gives the route, the 402 `PaymentRequired` (with the `payment-identifier`
 * extension declared), and the v1 `accepts` for the v1-compatible body.
 */
import type { PaymentRequired, PaymentRequirements } from '../wire.ts';
import { atomicAmount, type X402Settings } from './settings.ts';

export const PAYMENT_IDENTIFIER = 'payment-identifier';
export const PAYMENT_ID = /^[A-Za-z0-9_-]{16,128}$/;

export interface Offer {
  requirements: PaymentRequirements;
  resource: { url: string; description?: string; mimeType?: string };
  priceMicros: bigint;
  settings: X402Settings;
}

export function makeOffer(settings: X402Settings, priceMicros: bigint, resource: Offer['resource']): Offer {
  return {
    settings,
    priceMicros,
    resource,
    requirements: {
      scheme: 'exact',
      network: settings.network as `${string}:${string}`,
      asset: settings.asset,
      amount: atomicAmount(priceMicros, settings.decimals).toString(),
      payTo: settings.payTo,
      maxTimeoutSeconds: settings.maxTimeoutSeconds,
      extra: { name: settings.name, version: settings.version },
    },
  };
}

/** The v2 `PaymentRequired` sent base64 in `PAYMENT-REQUIRED` (and as MCP `structuredContent`). */
export function paymentRequired(offer: Offer, error: string): PaymentRequired {
  return {
    x402Version: 2,
    error,
    resource: offer.resource,
    accepts: [offer.requirements],
    extensions: {
      [PAYMENT_IDENTIFIER]: {
        info: { required: false },
        schema: {
          $schema: 'https://json-schema.org/draft/2020-12/schema',
          type: 'object',
          properties: { required: { type: 'boolean' }, id: { type: 'string', minLength: 16, maxLength: 128, pattern: '^[a-zA-Z0-9_-]+$' } },
          required: ['required'],
        },
      },
    },
  };
}

/** The v1 body (`x402Version: 1`, `maxAmountRequired`, the resource inside each requirement). */
export function paymentRequiredV1(offer: Offer, error: string): Record<string, unknown> {
  const r = offer.requirements;
  return {
    x402Version: 1,
    error,
    accepts: [{
      scheme: r.scheme, network: r.network, maxAmountRequired: r.amount, resource: offer.resource.url,
      description: offer.resource.description ?? '', mimeType: offer.resource.mimeType ?? 'application/json',
      outputSchema: null, payTo: r.payTo, maxTimeoutSeconds: r.maxTimeoutSeconds, asset: r.asset, extra: r.extra,
    }],
  };
}

/** Whether a v2 payload's `accepted` is exactly what was offered (the client may not edit it). */
export function acceptsOffer(accepted: PaymentRequirements, offer: Offer): boolean {
  const o = offer.requirements;
  return accepted.scheme === o.scheme && accepted.network === o.network && accepted.amount === o.amount
    && accepted.asset.toLowerCase() === o.asset.toLowerCase() && accepted.payTo.toLowerCase() === o.payTo.toLowerCase()
    && accepted.maxTimeoutSeconds === o.maxTimeoutSeconds
    && accepted.extra?.name === o.extra.name && accepted.extra?.version === o.extra.version;
}
