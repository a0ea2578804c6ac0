/**
 * @module proxy/headers
 * Which headers cross the gateway. Hop-by-hop headers (RFC 9110 §7.6.1) and anything named in
 * `Connection` belong to one connection and are dropped; the client's `Authorization` is its grant
 * token for Tollgate and must never reach the upstream; `X-Tollgate-*` are ours. Upstream
 * credentials are injected last so a client cannot override them.
 */

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);
/** Client headers that are Tollgate's business, not the upstream's. */
const CLIENT_ONLY = new Set(['authorization', 'cookie', 'idempotency-key', 'content-length', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip']);

function connectionTokens(headers: Headers): Set<string> {
  const value = headers.get('connection');
  return new Set(value ? value.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean) : []);
}

/** `omit`: more client headers to keep from the upstream, lowercase (an edge's own, e.g. x402's payment). */
export function upstreamRequestHeaders(incoming: Headers, options: { credentials: Readonly<Record<string, string>>; callId: string; omit?: readonly string[] }): Headers {
  const named = connectionTokens(incoming);
  const omit = options.omit ?? [];
  const out = new Headers();
  for (const [name, value] of incoming) {
    if (HOP_BY_HOP.has(name) || CLIENT_ONLY.has(name) || named.has(name) || name.startsWith('x-tollgate-') || omit.includes(name)) continue;
    out.append(name, value);
  }
  // The upstream can deduplicate our retries by this key, and sellers can quote it to support.
  out.set('idempotency-key', options.callId);
  out.set('x-tollgate-call-id', options.callId);
  for (const [name, value] of Object.entries(options.credentials)) out.set(name, value);
  return out;
}

/**
 * The upstream's answer headers as the client sees them. `fetch` already decoded any
 * Content-Encoding, so length and encoding no longer describe the body and are dropped. A header
 * whose value contains an upstream credential (an echo service, a misconfigured upstream) is
 * dropped too: credentials never leave the gateway.
 */
export function clientResponseHeaders(upstream: Headers, credentials: Readonly<Record<string, string>>): Headers {
  const named = connectionTokens(upstream);
  const secrets = Object.values(credentials).filter((v) => v.length >= 8);
  const decoded = upstream.has('content-encoding');
  const out = new Headers();
  for (const [name, value] of upstream) {
    if (HOP_BY_HOP.has(name) || named.has(name) || name.startsWith('x-tollgate-')) continue;
    if (decoded && (name === 'content-encoding' || name === 'content-length')) continue;
    if (secrets.some((s) => value.includes(s))) continue;
    out.append(name, value);
  }
  return out;
}
