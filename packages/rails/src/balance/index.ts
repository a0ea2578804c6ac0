export { BalanceRail, type BalanceHold, type BalanceOutcome } from './balance-rail.ts';
