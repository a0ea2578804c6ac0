/**
 * bench/rails.ts — x402 paid calls/s through Tollgate's seller side vs the reference `@x402/hono`
 * paymentMiddleware, in alternating rounds (BENCH_ROUNDS, default 4), on the same local chain (anvil + the EIP-3009 test token) and the
 * same local facilitator (over HTTP), same concurrency.
 *
 *   npm run bench:rails     (Tollgate on PostgreSQL at TOLLGATE_TEST_DATABASE_URL, else PGlite)
 *
 * Each call is what a real client does once it knows the price: sign a fresh EIP-3009 authorization
 * (a new nonce) and send one paid GET. The server verifies (locally and at the facilitator), runs the
 * handler, settles on chain (transferWithAuthorization, waits for the receipt) and answers with
 * PAYMENT-RESPONSE. Tollgate additionally takes the in-flight lock, credits the seller's earnings in
 * the ledger and appends the audit record. Everything runs in one process on loopback.
 *
 * Last line: {"bench":"rails","tollgate_x402_cps":N,"reference_x402_cps":N}
 */
import { x402Client } from '@x402/core/client';
import type { PaymentRequired } from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/client';
import { openTollgate, type Db } from '../packages/core/src/index.ts';
import { migrate, openPgliteDb, openPostgresDb } from '../packages/core/src/db/index.ts';
import { LocalFacilitator, serveFacilitator, serveFetch } from '../packages/rails/src/index.ts';
import { startLocalChain, startReferenceSeller, type LocalChain, type TestAccount } from '../packages/rails/src/chain/index.ts';
import { createApp, createLogger, startServer } from '../packages/server/src/index.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const CALLS = Number(process.env.BENCH_CALLS ?? 400);
const PRICE_MICROS = 10_000n;

interface Result { name: string; cps: number; p50Ms: number; p99Ms: number; errors: number }
interface Round { latencies: number[]; seconds: number; errors: number }

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

async function run(url: string, payers: TestAccount[], calls: number): Promise<Round> {
  const required = JSON.parse(Buffer.from((await fetch(url)).headers.get('payment-required') ?? '', 'base64').toString()) as PaymentRequired;
  const clients = payers.map((p) => x402Client.fromConfig({ schemes: [{ network: 'eip155:*', client: new ExactEvmScheme(p.account) }], spendControls: false }));
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(clients.map(async (client) => {
    while (next < calls) {
      next += 1;
      const t0 = performance.now();
      const payload = await client.createPaymentPayload(required);
      const response = await fetch(url, { headers: { 'payment-signature': Buffer.from(JSON.stringify(payload)).toString('base64') } });
      const body = await response.text();
      if (response.status !== 200 || !response.headers.get('payment-response')) {
        // The first failure of each run is shown: an error is a bug to chase, not noise.
        if (errors === 0) console.error(`${url}: ${response.status} ${body.slice(0, 500)}`);
        errors += 1;
      }
      latencies.push(performance.now() - t0);
    }
  }));
  return { latencies, seconds: (performance.now() - started) / 1000, errors };
}

/** Calls/s over all of a side's rounds (their calls over their own time), with merged latencies. */
function summarize(name: string, rounds: readonly Round[]): Result {
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = rounds.reduce((sum, r) => sum + r.seconds, 0);
  const errors = rounds.reduce((sum, r) => sum + r.errors, 0);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const result = { name, cps: Math.round(latencies.length / seconds), p50Ms: Math.round(at(0.5)), p99Ms: Math.round(at(0.99)), errors };
  const perRound = rounds.map((r) => Math.round(r.latencies.length / r.seconds)).join(', ');
  console.log(`${name.padEnd(28)} ${String(result.cps).padStart(6)} calls/s   p50 ${result.p50Ms} ms   p99 ${result.p99Ms} ms   errors ${errors}   (rounds: ${perRound})`);
  return result;
}

const SCHEMA = `bench_rails_${process.pid}`;

async function openDb(): Promise<Db> {
  const url = process.env.TOLLGATE_TEST_DATABASE_URL;
  const db = url ? await openPostgresDb({ url, schema: SCHEMA, poolSize: 8 }) : await openPgliteDb();
  await migrate(db);
  return db;
}

async function fundedPayers(chain: LocalChain): Promise<TestAccount[]> {
  const payers = await Promise.all(Array.from({ length: CONCURRENCY }, () => chain.newAccount()));
  for (const p of payers) await chain.mint(p.address, PRICE_MICROS * BigInt(CALLS) * 4n);
  return payers;
}

async function main(): Promise<void> {
  const chain = await startLocalChain();
  const payTo = await chain.newAccount();
  const facilitator = await serveFacilitator(new LocalFacilitator({ publicClient: chain.publicClient, walletClient: chain.walletClient(chain.accounts[0]!) }));
  const payers = await fundedPayers(chain);

  const reference = await startReferenceSeller({ chain, facilitatorUrl: facilitator.url, payTo: payTo.address, amount: PRICE_MICROS });

  const db = await openDb();
  const tg = await openTollgate({ db });
  const upstream = await serveFetch(async () => Response.json({ paid: true }));
  const built = createApp({ tg, config: { x402FacilitatorUrl: facilitator.url, allowLoopbackUpstreams: true, sweepIntervalSeconds: 0, logLevel: 'silent' }, logger: createLogger({ level: 'silent' }) });
  await built.services.create({
    slug: 'paid', kind: 'http', baseUrl: upstream.url, sellerId: 'sel_bench', prices: [{ type: 'fixed', price: '0.01' }],
    metadata: { x402: { payTo: payTo.address, network: chain.network, asset: chain.token.address, name: chain.token.name, version: chain.token.version } },
  });
  const server = await startServer(built.app);
  console.log(`x402 paid calls, ${CALLS} calls each in ${ROUNDS} alternating rounds, ${CONCURRENCY} in flight, Tollgate on ${db.kind}; local anvil chain, facilitator over HTTP`);

  // Warm both paths the way they are measured (same concurrency) before measuring either. With 20
  // calls one at a time, Tollgate's run was also the JIT warm-up of the code both share (facilitator,
  // viem, undici), which the reference then ran warm: Tollgate's first run in a process was ~25%
  // slower than its second, the reference's was not.
  const warm = Number(process.env.BENCH_WARMUP_CALLS ?? 200);
  const tollgateUrl = `${server.url}/proxy/paid/x`;
  const referenceUrl = `${reference.url}/paid`;
  await run(tollgateUrl, payers, warm);
  await run(referenceUrl, payers, warm);

  // Rounds alternate which side goes first, so a drift in the machine's load (other jobs) falls on
  // both sides alike instead of on whichever ran second.
  const ours: Round[] = [];
  const theirs: Round[] = [];
  const perRound = Math.ceil(CALLS / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      ours.push(await run(tollgateUrl, payers, perRound));
      theirs.push(await run(referenceUrl, payers, perRound));
    } else {
      theirs.push(await run(referenceUrl, payers, perRound));
      ours.push(await run(tollgateUrl, payers, perRound));
    }
  }
  const tollgate = summarize('tollgate seller (proxy)', ours);
  const ref = summarize('reference @x402/hono', theirs);

  await server.close();
  await upstream.close();
  await reference.close();
  await facilitator.close();
  await tg.close();
  if (db.kind === 'postgres') await db.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => {});
  await db.close();
  await chain.stop();
  console.log(JSON.stringify({ bench: 'rails', tollgate_x402_cps: tollgate.cps, reference_x402_cps: ref.cps, tollgate_p99_ms: tollgate.p99Ms, reference_p99_ms: ref.p99Ms, errors: tollgate.errors + ref.errors }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
