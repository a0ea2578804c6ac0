export { LEDGER, ACCOUNT_FLAGS, TRANSFER_FLAGS } from './types.ts';
export type * from './types.ts';
