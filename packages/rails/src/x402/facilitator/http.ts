/**
 * @module x402/facilitator/http
 * The facilitator HTTP API (x402 spec §7): `GET /supported`, `POST /verify`, `POST /settle`, as a
 * fetch handler (`Request → Response`), plus `serveFacilitator` to run it on a port. A malformed
 * request is a 400 carrying `isValid:false` / `success:false` with `invalid_payload`, never a 5xx.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PaymentRequirements } from '../wire.ts';
import { parsePaymentPayload, WireError } from '../wire.ts';
import type { LocalFacilitator } from './local-facilitator.ts';

/** Largest verify/settle request body accepted. */
export const FACILITATOR_BODY_BYTES_MAX = 64 * 1024;

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export function facilitatorHandler(facilitator: LocalFacilitator): (request: Request) => Promise<Response> {
  return async function handle(request) {
    const path = new URL(request.url).pathname.replace(/\/+$/, '');
    if (request.method === 'GET' && path.endsWith('/supported')) return json(200, facilitator.supported());
    const action = path.endsWith('/verify') ? 'verify' : path.endsWith('/settle') ? 'settle' : undefined;
    if (request.method !== 'POST' || !action) return json(404, { error: 'not found: GET /supported, POST /verify, POST /settle' });
    let parsed;
    try {
      parsed = parseRequest(await request.text());
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const reason = error instanceof WireError ? error.reason : 'invalid_payload';
      return json(400, action === 'verify' ? { isValid: false, invalidReason: reason, invalidMessage: message } : { success: false, errorReason: reason, errorMessage: message, transaction: '', network: '' });
    }
    return json(200, action === 'verify' ? await facilitator.verify(parsed.payment, parsed.requirements) : await facilitator.settle(parsed.payment, parsed.requirements));
  };
}

function parseRequest(text: string) {
  if (text.length > FACILITATOR_BODY_BYTES_MAX) throw new WireError('invalid_payload', `body: at most ${FACILITATOR_BODY_BYTES_MAX} bytes`);
  let body: { paymentPayload?: unknown; paymentRequirements?: Record<string, unknown> };
  try {
    body = JSON.parse(text);
  } catch {
    throw new WireError('invalid_payload', 'body: not JSON');
  }
  const payment = parsePaymentPayload(body?.paymentPayload, 'paymentPayload');
  return { payment, requirements: normalizeRequirements(body.paymentRequirements) };
}

/** v1 requirements name the amount `maxAmountRequired`; both become the v2 shape. */
function normalizeRequirements(value: Record<string, unknown> | undefined): PaymentRequirements {
  const r = value ?? {};
  const amount = r.amount ?? r.maxAmountRequired;
  for (const [field, v] of Object.entries({ scheme: r.scheme, network: r.network, asset: r.asset, payTo: r.payTo, amount })) {
    if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new WireError('invalid_payload', `paymentRequirements.${field}: a string is required`);
  }
  const extra = r.extra && typeof r.extra === 'object' ? (r.extra as Record<string, unknown>) : {};
  return { scheme: r.scheme as string, network: r.network as `${string}:${string}`, asset: r.asset as string, payTo: r.payTo as string, amount: amount as string, maxTimeoutSeconds: Number(r.maxTimeoutSeconds ?? 0), extra };
}

export interface FacilitatorServer {
  url: string;
  close(): Promise<void>;
}

/** Serves a fetch handler with node:http on `host:port` (port 0 = any free port). */
export async function serveFetch(handler: (request: Request) => Promise<Response>, options: { host?: string; port?: number } = {}): Promise<FacilitatorServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(async (req, res) => {
    try {
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
      const response = await handler(new Request(`http://${host}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers: req.headers as Record<string, string>, ...(body ? { body: new Uint8Array(body) } : {}) }));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(error instanceof WireError ? 413 : 500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
    }
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > FACILITATOR_BODY_BYTES_MAX) throw new WireError('invalid_payload', 'body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Starts a facilitator on a free port: `{ url, close }`. */
export function serveFacilitator(facilitator: LocalFacilitator, options: { host?: string; port?: number } = {}): Promise<FacilitatorServer> {
  return serveFetch(facilitatorHandler(facilitator), options);
}
