/**
 * @module proxy
 * The paid HTTP proxy (see proxy.ts for its semantics).
 */
export { proxy, parseUnits, type ProxyOptions, type ProxyLimits } from './proxy.ts';
export { upstreamRequestHeaders, clientResponseHeaders } from './headers.ts';
export { fingerprintOf, prepareBody } from './request-body.ts';
