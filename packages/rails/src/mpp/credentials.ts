/**
 * @module mpp/credentials
 * Reads a Payment credential from `Authorization: Payment <base64url(JSON)>` (HTTP) or from
 * `_meta["org.paymentauth/credential"]` (MCP, native JSON) with mppx's `Credential` primitives, and
 * turns every way it can be wrong into a `malformed-credential` problem, never an exception that
 * would become a 5xx. Credentials are bearer secrets: nothing here logs or echoes them.
 */
import { Credential } from 'mppx';
import { MppProblem } from './problems.ts';

export type MppCredential = Credential.Credential<Record<string, unknown>>;

/** Longest `Authorization` value read (the spec asks servers to take at least 4 KiB). */
export const CREDENTIAL_HEADER_LENGTH_MAX = 16 * 1024;

const PAYMENT_SCHEME = /^Payment\s+/i;

/** Whether this `Authorization` value uses the Payment scheme (so MPP must answer it). */
export function isPaymentAuthorization(value: string | null | undefined): value is string {
  return typeof value === 'string' && PAYMENT_SCHEME.test(value);
}

export function credentialFromHeader(value: string): MppCredential {
  if (value.length > CREDENTIAL_HEADER_LENGTH_MAX) throw malformed(`the credential is longer than ${CREDENTIAL_HEADER_LENGTH_MAX} characters`);
  const token = value.replace(PAYMENT_SCHEME, '').trim();
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw malformed('the credential is not base64url without padding');
  let credential: Credential.Credential;
  try {
    credential = Credential.deserialize(`Payment ${token}`);
  } catch {
    throw malformed('the credential is not base64url JSON with a challenge');
  }
  return withObjectPayload(credential);
}

/** An MCP credential: the same object, with the challenge's `request` as native JSON. */
export function credentialFromMeta(value: unknown): MppCredential {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw malformed('org.paymentauth/credential must be an object');
  const raw = value as Record<string, unknown>;
  const challenge = raw.challenge as Record<string, unknown> | undefined;
  if (!challenge || typeof challenge !== 'object' || !challenge.request || typeof challenge.request !== 'object') {
    throw malformed('org.paymentauth/credential needs a challenge with its request');
  }
  let serialized: string;
  try {
    serialized = Credential.serialize(raw as unknown as Credential.Credential);
  } catch {
    throw malformed('org.paymentauth/credential could not be read');
  }
  if (serialized.length > CREDENTIAL_HEADER_LENGTH_MAX) throw malformed(`the credential is longer than ${CREDENTIAL_HEADER_LENGTH_MAX} characters`);
  return credentialFromHeader(serialized);
}

function withObjectPayload(credential: Credential.Credential): MppCredential {
  const { payload } = credential;
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw malformed('the credential has no payload object');
  return credential as MppCredential;
}

function malformed(detail: string): MppProblem {
  return new MppProblem('malformed-credential', `Malformed credential: ${detail}`);
}
