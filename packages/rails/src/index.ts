/**
 * @module @tollgate/rails
 * Payment rails. The test chain is a separate entry (`@tollgate/rails/testing`) so production code
 * never loads solc or spawns anvil.
 */
export type { Rail, RailDescription, RailHold, RailId, RailSettlement } from './rail.ts';
export { BalanceRail, type BalanceHold, type BalanceOutcome } from './balance/index.ts';
export * from './x402/index.ts';
export { RailEarnings, railAccountId, type CollectedPayment } from './earnings.ts';
export type { UpstreamChallenge, UpstreamPayer, UpstreamPayment, UpstreamReceipt } from './upstream-payer.ts';
export { ChainDeposits, type ChainDepositsOptions, type Deposit } from './deposits/index.ts';
