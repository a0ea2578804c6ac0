/**
 * @module mpp/http
 * MPP over HTTP: reads `Authorization: Payment …`, answers `402` with one `WWW-Authenticate:
 * Payment` per offered intent and an RFC 9457 body (`Cache-Control: no-store`), and adds
 * `Payment-Receipt` (base64url JSON) with `Cache-Control: private` to paid 2xx answers.
 */
import { Challenge, Receipt } from 'mppx';
import { credentialFromHeader, isPaymentAuthorization } from './credentials.ts';
import type { MppOffer, MppOutcome } from './outcome.ts';
import type { MppSeller } from './seller.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Whether the request pays with MPP (so it is answered by the MPP rail, not a grant). */
export function paysWithMpp(request: Request): boolean {
  return isPaymentAuthorization(request.headers.get('authorization'));
}

/** Runs `deliver` only once the request has paid (or may pay) for `offer`; 2xx answers are charged. */
export async function payOverHttp(seller: MppSeller, request: Request, offer: MppOffer, deliver: () => Promise<Response>): Promise<Response> {
  const header = request.headers.get('authorization');
  const outcome = await seller.pay(
    () => (isPaymentAuthorization(header) ? credentialFromHeader(header) : undefined),
    offer,
    async () => {
      const response = await deliver();
      return { value: response, chargeable: response.status >= 200 && response.status < 300 };
    },
    request.headers.get('accept-payment'),
  );
  return httpResponse(outcome, new URL(request.url).pathname);
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
  }
}
