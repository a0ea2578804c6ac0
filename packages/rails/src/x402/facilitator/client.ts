/**
 * @module x402/facilitator/client
 * The seller's facilitator client (`POST /verify`, `POST /settle`, x402 spec §7) over node:http(s)
 * with kept-alive connections. The seller calls it twice per paid call on the event loop that serves
 * the call; there it costs about half of `HTTPFacilitatorClient` from `@x402/core` (fetch, a JSON
 * round trip of each body, zod on each answer), which also fits `FacilitatorPort`.
 *
 * Same contract: a 2xx body is the verdict or the settlement; anything else (another status, a body
 * that is not one, a timeout, a lost connection) throws. The seller reads a verify that throws as an
 * unreachable facilitator and a settle that throws as an unknown outcome. Redirects are not followed.
 */
import http from 'node:http';
import https from 'node:https';
import type { SettleResponse, VerifyResponse } from '@x402/core/types';
import type { PaymentPayload, PaymentRequirements } from '../wire.ts';
import { FACILITATOR_BODY_BYTES_MAX } from './http.ts';

export interface FacilitatorClientOptions {
  /** The facilitator's base URL (`…/verify` and `…/settle` are appended). */
  url: string;
  /** Whole exchange, connection to last byte (default 30 s). */
  timeoutMs?: number;
}

/** How long an unused kept-alive connection is kept (servers commonly close theirs after 5 s). */
const IDLE_SOCKET_MS = 4_000;

/** A request that failed on a reused connection before the server answered anything. */
class StaleConnection extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

export class FacilitatorClient {
  readonly #base: URL;
  readonly #timeoutMs: number;
  readonly #agent: http.Agent;
  readonly #request: typeof http.request;

  constructor(options: FacilitatorClientOptions) {
    this.#base = new URL(options.url.replace(/\/+$/, ''));
    if (this.#base.protocol !== 'http:' && this.#base.protocol !== 'https:') throw new Error(`facilitator URL must be http(s): ${options.url}`);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    const secure = this.#base.protocol === 'https:';
    // Idle connections are dropped before a server's usual 5 s keep-alive would close them.
    const agent = { keepAlive: true, timeout: IDLE_SOCKET_MS };
    this.#agent = secure ? new https.Agent(agent) : new http.Agent(agent);
    this.#request = secure ? https.request : http.request;
  }

  async verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse> {
    const answer = await this.#post('verify', payload, requirements);
    if (typeof answer.isValid !== 'boolean') throw new Error('facilitator verify: the answer has no isValid');
    return answer as unknown as VerifyResponse;
  }

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
    const answer = await this.#post('settle', payload, requirements);
    if (typeof answer.success !== 'boolean' || typeof answer.transaction !== 'string') throw new Error('facilitator settle: the answer has no success or transaction');
    return answer as unknown as SettleResponse;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  async #post(action: 'verify' | 'settle', payload: PaymentPayload, requirements: PaymentRequirements): Promise<Record<string, unknown>> {
    const body = Buffer.from(JSON.stringify({ x402Version: payload.x402Version, paymentPayload: payload, paymentRequirements: requirements }));
    const url = new URL(`${this.#base.pathname.replace(/\/$/, '')}/${action}`, this.#base);
    try {
      return await this.#send(action, url, body);
    } catch (error) {
      // A kept-alive connection the server closed while idle fails the next request sent on it
      // before the server read a byte (Node's documented keep-alive race); that request never ran,
      // so it is sent once more, on another connection. Any other failure stands.
      if (!(error instanceof StaleConnection)) throw error;
      return this.#send(action, url, body);
    }
  }

  #send(action: 'verify' | 'settle', url: URL, body: Buffer): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const request = this.#request(url, {
        method: 'POST', agent: this.#agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length, accept: 'application/json' },
      }, (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > FACILITATOR_BODY_BYTES_MAX) request.destroy(new Error(`facilitator ${action}: the answer is larger than ${FACILITATOR_BODY_BYTES_MAX} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) return reject(new Error(`facilitator ${action} answered ${status}: ${text.slice(0, 200)}`));
          try {
            const answer = JSON.parse(text) as unknown;
            if (answer === null || typeof answer !== 'object') throw new Error('not an object');
            resolve(answer as Record<string, unknown>);
          } catch {
            reject(new Error(`facilitator ${action}: the answer is not JSON: ${text.slice(0, 200)}`));
          }
        });
        response.on('error', reject);
      });
      const timer = setTimeout(() => request.destroy(new Error(`facilitator ${action}: no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const stale = request.reusedSocket && !answered && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
        reject(stale ? new StaleConnection(error) : error);
      });
      request.end(body);
    });
  }
}
