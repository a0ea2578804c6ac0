export { ChainDeposits, type ChainDepositsOptions, type Deposit } from './chain-deposits.ts';
