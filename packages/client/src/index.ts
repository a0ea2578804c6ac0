/**
 * @module @tollgate/client
 * The agent side of Tollgate: a `fetch` wrapper that pays through the gateway with a grant token.
 * No dependencies; runs wherever `fetch` does (Node 20+, Deno, Bun, browsers).
 */
export { createTollgateFetch, callInfo, type TollgateFetch, type TollgateFetchOptions, type TollgateRequestInit, type WaitForApprovalOptions, type CallInfo } from './tollgate-fetch.ts';
export { TollgateClientError, readProblem, PROBLEM_TYPE_PREFIX, type Problem, type ErrorFamily } from './errors.ts';
