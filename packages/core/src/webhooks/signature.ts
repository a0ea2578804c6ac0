/**
 * @module webhooks/signature
 * How a webhook proves it came from Tollgate: `Tollgate-Signature: t=<unix seconds>,v1=<hex>` where
 * the hex is HMAC-SHA256(secret, `${t}.${body}`). Signing the timestamp with the body lets a
 * receiver refuse replays of an old, captured delivery; the comparison is constant-time so the
 * signature can't be guessed byte by byte from response timings.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Tollgate-Signature';
export const EVENT_ID_HEADER = 'Tollgate-Event-Id';
export const EVENT_TYPE_HEADER = 'Tollgate-Event-Type';
/** Default age a receiver accepts: five minutes, like most webhook senders. */
export const SIGNATURE_TOLERANCE_SECONDS_DEFAULT = 300;

export function signatureHex(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
}

/** The header value for a body sent at `timestampSeconds`. */
export function signWebhook(secret: string, body: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${signatureHex(secret, timestampSeconds, body)}`;
}

export type SignatureCheck =
  | { ok: true; timestampSeconds: number }
  | { ok: false; why: 'malformed' | 'stale' | 'mismatch' };

export interface VerifyOptions {
  /** The receiver's clock, in unix seconds; defaults to now. */
  nowSeconds?: number;
}

/**
 * Checks a `Tollgate-Signature` header against the raw body (the exact bytes received, before any
 * JSON parsing). Several `v1=` entries are allowed so a sender can sign with an old and a new secret
 * while rotating; any one matching is enough.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS_DEFAULT,
  options: VerifyOptions = {},
): SignatureCheck {
  if (!header || header.length > 2_000) return { ok: false, why: 'malformed' };
  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value && /^[0-9]{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && value && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, why: 'malformed' };
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > toleranceSeconds) return { ok: false, why: 'stale' };
  const expected = Buffer.from(signatureHex(secret, timestamp, body), 'hex');
  const matched = candidates.some((hex) => timingSafeEqual(expected, Buffer.from(hex, 'hex')));
  return matched ? { ok: true, timestampSeconds: timestamp } : { ok: false, why: 'mismatch' };
}
