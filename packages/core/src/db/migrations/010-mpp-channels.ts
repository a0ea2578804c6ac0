/**
 * @module db/migrations/010-mpp-channels
 * MPP payment channels a seller accepts vouchers on: per channel, the server's accounting (highest
 * voucher accepted, the signed vouchers that may still be settled, what is reserved and delivered,
 * by seller) as one JSON document, updated under a row lock, so every gateway process serializes on
 * the channel and a restart loses nothing that was accepted (draft-evm-session §"Crash Safety").
 */
import type { Migration } from '../migrate.ts';

export const mppChannels: Migration = {
  id: '010-mpp-channels',
  sql: `
CREATE TABLE mpp_channels (
  channel_id text PRIMARY KEY CHECK (channel_id ~ '^0x[0-9a-f]{64}$'),
  state text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
};
