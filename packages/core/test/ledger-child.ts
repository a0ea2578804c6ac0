/**
 * @module test/ledger-child
 * A second OS process for the ledger's cross-process tests. It opens the same database (a Postgres
 * schema, or a PGlite data folder), waits until `startAtMs`, places `count` holds at once, prints one
 * JSON line with how many were created, and then either exits or (with `hang`) waits to be killed.
 * With `startAtMs` 0 it prints `{"ready":true}` once the database is open and waits for the start
 * time on stdin, so two processes can start their race at the same instant.
 *
 *   node --import tsx packages/core/test/ledger-child.ts '{"url":…,"schema":…,"count":500,…}'
 */
import { migrate, openPgliteDb, openPostgresDb, type Db } from '../src/db/index.ts';
import { openLedger } from '../src/ledger/sql-store.ts';
import { TRANSFER_FLAGS } from '../src/ledger/types.ts';

interface ChildArgs {
  url?: string;
  schema?: string;
  dataDir?: string;
  account: string;
  merchant: string;
  tag: string;
  count: number;
  amount: string;
  timeoutSeconds: number;
  startAtMs: number;
  hang: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
let db: Db;
if (args.dataDir) {
  db = await openPgliteDb({ dataDir: args.dataDir });
  await migrate(db);
} else {
  db = await openPostgresDb({ url: args.url!, ...(args.schema ? { schema: args.schema } : {}) });
}
const ledger = await openLedger(db);
let startAtMs = args.startAtMs;
if (startAtMs === 0 && !args.hang) {
  process.stdout.write('{"ready":true}\n');
  startAtMs = await new Promise<number>((resolve) => process.stdin.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  process.stdin.destroy();
}
while (Date.now() < startAtMs) await new Promise((resolve) => setTimeout(resolve, 1));
// Waves of WAVE concurrent holds, so this process's batches interleave with the other process's.
const WAVE = 50;
const hold = (i: number) =>
  ledger.createTransfers([
    {
      id: `${args.tag}_${i}`,
      debitAccountId: args.account,
      creditAccountId: args.merchant,
      amount: BigInt(args.amount),
      flags: TRANSFER_FLAGS.pending,
      timeoutSeconds: args.timeoutSeconds,
    },
  ]);
const results: Awaited<ReturnType<typeof hold>>[] = [];
for (let wave = 0; wave < args.count; wave += WAVE) {
  const size = Math.min(WAVE, args.count - wave);
  results.push(...(await Promise.all(Array.from({ length: size }, (_, j) => hold(wave + j)))));
}
const created = results.filter(([r]) => r?.status === 'created').length;
process.stdout.write(`${JSON.stringify({ created, refused: args.count - created })}\n`);
if (args.hang) {
  // Crash test: hold the holds and never post them; the parent kills this process with SIGKILL.
  setInterval(() => {}, 1_000);
} else {
  await ledger.close();
  await db.close();
}
