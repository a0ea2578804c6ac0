/**
 * @module x402/wire
 * The x402 wire format (v2, with v1 compatibility): header names, the standard-base64 JSON encoding,
 * and strict decoding of what clients send. A header that is not base64, not JSON or not a payment
 * payload is a `WireError` naming the problem: the edge answers 400, never 5xx.
 */
import { PaymentPayloadV1Schema, PaymentPayloadV2Schema } from '@x402/core/schemas';
import type { PaymentPayload, PaymentPayloadV1, PaymentRequired, PaymentRequirements, SettleResponse } from '@x402/core/types';

export type { PaymentPayload, PaymentPayloadV1, PaymentRequired, PaymentRequirements, SettleResponse };

export const X402_HEADERS = {
  /** v2 server → client on 402: base64 `PaymentRequired`. */
  paymentRequired: 'PAYMENT-REQUIRED',
  /** v2 client → server: base64 `PaymentPayload`. */
  paymentSignature: 'PAYMENT-SIGNATURE',
  /** v1 client → server. */
  xPayment: 'X-PAYMENT',
  /** server → client on success: base64 `SettleResponse` (v2, and v1's `X-PAYMENT-RESPONSE`). */
  paymentResponse: 'PAYMENT-RESPONSE',
  xPaymentResponse: 'X-PAYMENT-RESPONSE',
} as const;

/** The MCP transport's `_meta` keys (specs/transports-v2/mcp.md). */
export const X402_MCP_META = { payment: 'x402/payment', paymentResponse: 'x402/payment-response' } as const;

/** A real exact/EIP-3009 header is about 1 KiB; anything much larger is refused before decoding. */
export const PAYMENT_HEADER_BYTES_MAX = 16 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class WireError extends Error {
  constructor(readonly reason: 'invalid_payload' | 'invalid_x402_version', message: string) {
    super(message);
    this.name = 'WireError';
  }
}

/** Standard base64 (with padding) of UTF-8 JSON, as every x402 header is encoded. */
export function encodeHeader(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

/** Decodes a base64 JSON header; throws `WireError` for anything else. */
export function decodeHeader(value: string, name: string): unknown {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > PAYMENT_HEADER_BYTES_MAX || trimmed.length % 4 !== 0 || !BASE64.test(trimmed)) {
    throw new WireError('invalid_payload', `${name}: not standard base64 (at most ${PAYMENT_HEADER_BYTES_MAX} characters)`);
  }
  try {
    return JSON.parse(Buffer.from(trimmed, 'base64').toString('utf8'));
  } catch {
    throw new WireError('invalid_payload', `${name}: the base64 does not hold JSON`);
  }
}

/** A v2 payload, or a v1 one (kept as sent; `toRequirementsView` compares it to what was offered). */
export type AnyPaymentPayload = { version: 2; payload: PaymentPayload } | { version: 1; payload: PaymentPayloadV1 };

/** Validates a decoded payment payload (v1 or v2) from a header or MCP `_meta`. */
export function parsePaymentPayload(value: unknown, name: string): AnyPaymentPayload {
  const version = (value as { x402Version?: unknown } | null)?.x402Version;
  if (version === 2) {
    const parsed = PaymentPayloadV2Schema.safeParse(value);
    if (!parsed.success) throw new WireError('invalid_payload', `${name}: not an x402 v2 payment payload (${issuesOf(parsed.error)})`);
    return { version: 2, payload: parsed.data as PaymentPayload };
  }
  if (version === 1) {
    const parsed = PaymentPayloadV1Schema.safeParse(value);
    if (!parsed.success) throw new WireError('invalid_payload', `${name}: not an x402 v1 payment payload (${issuesOf(parsed.error)})`);
    return { version: 1, payload: parsed.data as PaymentPayloadV1 };
  }
  throw new WireError('invalid_x402_version', `${name}: x402Version must be 1 or 2`);
}

function issuesOf(error: { issues: { path: (string | number)[]; message: string }[] }): string {
  return error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Reads `PAYMENT-SIGNATURE`, else v1 `X-PAYMENT`; undefined when neither is sent. */
export function paymentFromHeaders(headers: Headers): AnyPaymentPayload | undefined {
  for (const name of [X402_HEADERS.paymentSignature, X402_HEADERS.xPayment]) {
    const value = headers.get(name);
    if (value !== null) return parsePaymentPayload(decodeHeader(value, name), name);
  }
  return undefined;
}
