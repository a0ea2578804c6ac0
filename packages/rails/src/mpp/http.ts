/**
 * @module mpp/http
 * MPP over HTTP: reads `Authorization: Payment …`, answers `402` with one `WWW-Authenticate:
 * Payment` per offered intent and an RFC 9457 body (`Cache-Control: no-store`), and adds
 * `Payment-Receipt` (base64url JSON) with `Cache-Control: private` to paid 2xx answers.
 */
import { Challenge, Receipt } from 'mppx';
import { credentialFromHeader, isPaymentAuthorization } from './credentials.ts';
import type { MppOffer, MppOutcome, MppReceipt } from './outcome.ts';
import type { MppSeller } from './seller.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Whether the request pays with MPP (so it is answered by the MPP rail, not a grant). */
export function paysWithMpp(request: Request): boolean {
  return isPaymentAuthorization(request.headers.get('authorization'));
}

/** Largest paid answer kept for `Idempotency-Key` retries (it must declare its length). */
export const REPLAY_ANSWER_BYTES_MAX = 64 * 1024;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

/**
 * Runs `deliver` only once the request has paid (or may pay) for `offer`; 2xx answers are charged.
 * With an `Idempotency-Key`, a paid charge's answer (if small) is kept, and a retry of the same
 * credential with the same key gets it again (`X-Tollgate-Replayed: true`) instead of a refusal.
 */
export async function payOverHttp(seller: MppSeller, request: Request, offer: MppOffer, deliver: () => Promise<Response>): Promise<Response> {
  const header = request.headers.get('authorization');
  const key = request.headers.get('idempotency-key');
  const idempotencyKey = key !== null && IDEMPOTENCY_KEY.test(key) ? key : undefined;
  const outcome = await seller.pay(
    () => (isPaymentAuthorization(header) ? credentialFromHeader(header) : undefined),
    offer,
    async () => {
      const response = await deliver();
      return { value: response, chargeable: response.status >= 200 && response.status < 300 };
    },
    { acceptPayment: request.headers.get('accept-payment'), ...(idempotencyKey ? { idempotencyKey } : {}) },
  );
  if (outcome.type === 'paid' && idempotencyKey && outcome.receipt.intent === 'charge') return keepAnswer(seller, outcome.value, outcome.receipt);
  return httpResponse(outcome, new URL(request.url).pathname);
}

/** Reads a small paid answer whole, keeps it for retries, and sends it with its receipt. */
async function keepAnswer(seller: MppSeller, response: Response, receipt: MppReceipt): Promise<Response> {
  const length = Number(response.headers.get('content-length') ?? NaN);
  if (!Number.isInteger(length) || length > REPLAY_ANSWER_BYTES_MAX) return httpResponse({ type: 'paid', value: response, receipt });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const answer = { status: response.status, contentType: response.headers.get('content-type'), body: Buffer.from(bytes).toString('base64'), receipt };
  await seller.rail.remember(String(receipt.challengeId), answer);
  return httpResponse({ type: 'paid', value: new Response(bytes.byteLength === 0 ? null : bytes, { status: response.status, statusText: response.statusText, headers: response.headers }), receipt });
}

/** `WWW-Authenticate` values for the offer's fresh challenges (to add MPP to another rail's 402). */
export function challengeHeaderValues(seller: MppSeller, offer: MppOffer, acceptPayment?: string | null): string[] {
  return seller.challenges(offer, acceptPayment).map((challenge) => Challenge.serialize(challenge));
}

export function httpResponse(outcome: MppOutcome<Response>, instance?: string): Response {
  switch (outcome.type) {
    case 'challenge': {
      const headers = new Headers({ 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' });
      for (const challenge of outcome.challenges) headers.append('www-authenticate', Challenge.serialize(challenge));
      const problem = { ...outcome.problem.toProblem(outcome.challenges[0]?.id), ...(instance ? { instance } : {}) };
      return new Response(JSON.stringify(problem), { status: 402, headers });
    }
    case 'refused': {
      const problem = { ...outcome.problem.toProblem(), ...(instance ? { instance } : {}) };
      return new Response(JSON.stringify(problem), { status: outcome.problem.status, headers: { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' } });
    }
    case 'not_charged':
      return outcome.value;
    case 'paid': {
      const headers = new Headers(outcome.value.headers);
      headers.set('payment-receipt', Receipt.serialize(outcome.receipt));
      headers.set('cache-control', 'private');
      return new Response(outcome.value.body, { status: outcome.value.status, statusText: outcome.value.statusText, headers });
    }
    case 'closed': {
      const { receipt } = outcome;
      const body = { closed: true, channelId: receipt.channelId, txHash: receipt.txHash, acceptedCumulative: receipt.acceptedCumulative, spent: receipt.spent };
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', 'payment-receipt': Receipt.serialize(receipt), 'cache-control': 'private' } });
    }
    case 'replayed': {
      const { answer } = outcome;
      const headers = new Headers({ 'payment-receipt': Receipt.serialize(answer.receipt), 'cache-control': 'private', 'x-tollgate-replayed': 'true' });
      if (answer.contentType) headers.set('content-type', answer.contentType);
      const body = Buffer.from(answer.body, 'base64');
      return new Response(body.byteLength === 0 ? null : body, { status: answer.status, headers });
    }
  }
}
