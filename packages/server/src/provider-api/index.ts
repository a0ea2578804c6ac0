/**
 * @module provider-api
 * The seller-facing API under `/v1/provider`: authorize/settle for `@tollgate/provider`, per-user
 * API keys, payouts.
 */
export { providerRoutes } from './routes.ts';
export { Payouts, PAYOUTS_PAGE_MAX, type Payout } from './payouts.ts';
