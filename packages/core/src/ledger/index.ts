/**
 * @module ledger
 * The ledger engine: TigerBeetle's accounts and transfers (docs/ledger.md), one state machine, two
 * stores (memory; SQL on PGlite or Postgres with group commit), the expiry sweeper and the
 * invariant check.
 */
export { LEDGER, ACCOUNT_FLAGS, TRANSFER_FLAGS } from './types.ts';
export type * from './types.ts';
export { openLedger, SqlLedger } from './sql-store.ts';
export type { AttachedEntry, AttachedResult, Attachment, AttachingLedger, AttachmentWriter } from './attachment.ts';
export { createMemoryLedger, MemoryLedger } from './memory-store.ts';
export { startSweeper, type SweeperOptions } from './sweeper.ts';
export type { LedgerOptions } from './clock.ts';
export type { WriterStats } from './writer.ts';
export { METADATA_BYTES_MAX } from './metadata.ts';
export { ACCOUNTS_PER_REQUEST_MAX, PAGE_SIZE_DEFAULT } from './requests.ts';
export { isSuccess } from './state-machine.ts';
