/**
 * @module ledger/clock
 * The ledger's clock, injectable so tests can move time to expire holds. It reads milliseconds since
 * the epoch; a store reads it once per batch, so every event of a batch sees the same instant.
 */

export interface LedgerOptions {
  /** Milliseconds since the epoch (number or bigint); defaults to `Date.now`. */
  now?: () => bigint | number;
}

export function clockMs(options: LedgerOptions): () => bigint {
  const now = options.now ?? Date.now;
  return () => {
    const value = now();
    return typeof value === 'bigint' ? value : BigInt(Math.floor(value));
  };
}
