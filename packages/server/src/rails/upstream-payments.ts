/**
 * @module rails/upstream-payments
 * Buyer side on the proxy: an upstream that answers 402 is paid by the first configured payer
 * (`@tollgate/rails` `UpstreamPayer`: x402 now, MPP next to it) whose rail the service allows in
 * `metadata.payUpstream` (e.g. `["x402"]`), never above the call's hold, and the request is sent
 * once more with the payment. What was paid and the provider's receipt are returned so the proxy
 * captures exactly that and records both with the call.
 */
import { formatMicros, type Service } from '@tollgate/core';
import type { UpstreamPayer, UpstreamPayment, UpstreamReceipt } from '@tollgate/rails';

/** Largest 402 body read to find payment requirements. */
const CHALLENGE_BODY_BYTES_MAX = 64 * 1024;

export interface PaidUpstream {
  payment: UpstreamPayment;
  receipt: UpstreamReceipt | undefined;
}

export interface UpstreamPaymentContext {
  service: Service;
  url: string;
  holdMicros: bigint;
  /** Whether the request body can be sent again (a streamed body cannot). */
  replayable: boolean;
  /** Sends the request again with these headers added. */
  retry(headers: Record<string, string>): Promise<Response>;
}

export class UpstreamPayments {
  readonly #payers: readonly UpstreamPayer[];

  constructor(payers: readonly UpstreamPayer[]) {
    this.#payers = payers;
  }

  /** The paid answer, or the 402 as it came (rebuilt, since its body was read) when nobody pays. */
  async pay(challenge: Response, context: UpstreamPaymentContext): Promise<{ response: Response; paid?: PaidUpstream }> {
    const allowed = allowedRails(context.service);
    const payers = this.#payers.filter((p) => allowed.includes(p.rail));
    if (payers.length === 0 || !context.replayable) return { response: challenge };
    const bytes = new Uint8Array(await challenge.arrayBuffer()).slice(0, CHALLENGE_BODY_BYTES_MAX);
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch {
      body = undefined;
    }
    for (const payer of payers) {
      const payment = await payer.pay({ url: context.url, headers: challenge.headers, body }, context.holdMicros);
      if (!payment) continue;
      const response = await context.retry(payment.headers);
      return { response, paid: { payment, receipt: payer.receipt(response.headers) } };
    }
    return { response: new Response(bytes, { status: challenge.status, headers: challenge.headers }) };
  }
}

function allowedRails(service: Service): string[] {
  const value = service.metadata?.payUpstream;
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** What the call captures for a paid upstream: the payment if the provider says it settled, else nothing. */
export function paidMicros(paid: PaidUpstream): bigint {
  return paid.receipt?.settled ? paid.payment.amountMicros : 0n;
}

/** Kept with the call (its stored result) and in one line of its audit summary. */
export function paidRecord(paid: PaidUpstream): { result: Record<string, unknown>; summary: string } {
  const { payment, receipt } = paid;
  return {
    result: { upstreamPayment: { rail: payment.rail, amount: formatMicros(payment.amountMicros), ...payment.details, receipt: receipt?.raw ?? null } },
    summary: `paid the upstream ${formatMicros(payment.amountMicros)} with ${payment.rail} to ${payment.details.payTo ?? '?'}${receipt?.reference ? `, tx ${receipt.reference}` : ''}${receipt?.settled ? '' : ' (no settled receipt: not captured)'}`,
  };
}
