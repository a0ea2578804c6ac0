/**
 * Property tests: random sequences of account creation, transfers (single-phase, holds, posts, voids,
 * closing holds, linked chains, retries with the same and with different fields), clock advances and
 * expiry, run against the independent reference model (test/ledger-model.ts) and against every store:
 * memory, SQL on PGlite, SQL on Postgres. Every result, balance, hold state and history page must match.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LedgerModel, type ModelTransferInput } from '../../test/ledger-model.ts';
import { testDatabases, type TestDb } from '../testing/databases.ts';
import { assertLedgerHealthy } from '../testing/invariants.ts';
import { createMemoryLedger } from './memory-store.ts';
import { openLedger, SqlLedger } from './sql-store.ts';
import { ACCOUNT_FLAGS, TRANSFER_FLAGS, type Ledger } from './types.ts';

const ACCOUNTS = ['w', 'dm', 'cm', 'plain', 'l2', 'eur', 'missing'] as const;
const TRANSFER_IDS = ['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9', 't10', 't11'] as const;
const BASE_ACCOUNTS = [
  { id: 'w', ledger: 1, code: 1, currency: 'USD' },
  { id: 'dm', ledger: 1, code: 2, currency: 'USD', flags: ACCOUNT_FLAGS.debitsMustNotExceedCredits },
  { id: 'cm', ledger: 1, code: 3, currency: 'USD', flags: ACCOUNT_FLAGS.creditsMustNotExceedDebits },
  { id: 'plain', ledger: 1, code: 4, currency: 'USD', metadata: { kind: 'plain', n: 1 } },
  { id: 'l2', ledger: 2, code: 1, currency: 'USD' },
  { id: 'eur', ledger: 1, code: 1, currency: 'EUR' },
];

type Command =
  | { type: 'accounts'; accounts: { id: string; ledger: number; code: number; currency: string; flags?: number; metadata?: Record<string, unknown> }[] }
  | { type: 'transfers'; transfers: ModelTransferInput[] }
  | { type: 'retry'; back: number; change: Change }
  | { type: 'advance'; ms: number }
  | { type: 'expire'; limit: number };

/** Mostly absent: a field given on one event in five. */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
/** Mostly pairs that can succeed, sometimes anything (wrong ledger, currency, missing, same account). */
const PAIRS: readonly (readonly [string, string])[] = [['w', 'dm'], ['dm', 'plain'], ['dm', 'w'], ['plain', 'cm'], ['w', 'cm'], ['cm', 'plain'], ['w', 'plain'], ['plain', 'w']];
const pairArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...PAIRS) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...ACCOUNTS), fc.constantFrom(...ACCOUNTS)) },
);

const transferArb: fc.Arbitrary<ModelTransferInput> = fc
  .record({
    kind: fc.constantFrom('single', 'pending', 'pending', 'post', 'void'),
    id: fc.constantFrom(...TRANSFER_IDS),
    pair: pairArb,
    amount: fc.constantFrom(0n, 1n, 5n, 20n, 50n, 100n, 400n),
    omitAmount: fc.boolean(),
    // Post and void name a recent hold ('@k' = the k-th most recent hold sent) or, now and then, any id.
    pendingId: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('@0', '@0', '@1', '@2') }, { weight: 1, arbitrary: fc.constantFrom(...TRANSFER_IDS) }),
    timeout: fc.constantFrom(0, 0, 1, 2, 5),
    linked: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    closing: fc.constantFrom(0, 0, 0, 0, TRANSFER_FLAGS.closingDebit, TRANSFER_FLAGS.closingCredit),
    code: rarely(fc.constantFrom(1, 2)),
    ledger: rarely(fc.constantFrom(1, 2)),
    metadata: rarely(fc.constantFrom({ a: 1 }, { b: 'x', a: 1 })),
    giveAccounts: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  })
  .map((r) => {
    const [dr, cr] = r.pair;
    const linked = r.linked ? TRANSFER_FLAGS.linked : 0;
    const t: ModelTransferInput = { id: r.id };
    if (r.code !== undefined) t.code = r.code;
    if (r.ledger !== undefined) t.ledger = r.ledger;
    if (r.metadata !== undefined) t.metadata = r.metadata;
    if (r.kind === 'single' || r.kind === 'pending') {
      Object.assign(t, { debitAccountId: dr, creditAccountId: cr, amount: r.amount });
      t.flags = linked | (r.kind === 'pending' ? TRANSFER_FLAGS.pending | r.closing : 0);
      if (r.kind === 'pending' && r.timeout) t.timeoutSeconds = r.timeout;
    } else {
      t.pendingId = r.pendingId;
      t.flags = linked | (r.kind === 'post' ? TRANSFER_FLAGS.postPending : TRANSFER_FLAGS.voidPending);
      if (!r.omitAmount) t.amount = r.amount;
      if (r.giveAccounts) Object.assign(t, { debitAccountId: dr, creditAccountId: cr });
    }
    return t;
  });

type Change = 'none' | 'amount' | 'code' | 'metadata' | 'timeout' | 'flags' | 'debit';
const CHANGES: readonly Change[] = ['none', 'none', 'none', 'amount', 'code', 'metadata', 'timeout', 'flags', 'debit'];

/** A retry of an earlier request: the same events again, or with one field of one event changed. */
function retried(previous: ModelTransferInput[], change: Change, at: number): ModelTransferInput[] {
  const events = previous.map((t) => ({ ...t }));
  const t = events[at % events.length]!;
  if (change === 'amount') t.amount = (t.amount ?? 0n) + 1n;
  if (change === 'code') t.code = (t.code ?? 1) + 1;
  if (change === 'metadata') t.metadata = { changed: true };
  if (change === 'timeout') t.timeoutSeconds = (t.timeoutSeconds ?? 0) + 1;
  if (change === 'flags') t.flags = (t.flags ?? 0) ^ TRANSFER_FLAGS.linked;
  if (change === 'debit') t.debitAccountId = 'plain';
  return events;
}

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ type: fc.constant('accounts' as const), accounts: fc.array(fc.record({ id: fc.constantFrom(...ACCOUNTS), ledger: fc.constantFrom(1, 2), code: fc.constantFrom(1, 2), currency: fc.constantFrom('USD', 'EUR'), flags: fc.constantFrom(0, ACCOUNT_FLAGS.debitsMustNotExceedCredits) }), { minLength: 1, maxLength: 2 }) }) },
  { weight: 8, arbitrary: fc.record({ type: fc.constant('transfers' as const), transfers: fc.array(transferArb, { minLength: 1, maxLength: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('retry' as const), back: fc.nat(6), change: fc.constantFrom(...CHANGES) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('advance' as const), ms: fc.constantFrom(500, 1000, 3000) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('expire' as const), limit: fc.constantFrom(1, 1000) }) },
);

/** Funding first so the flagged accounts have something to spend, then the random commands. */
const scenarioArb = fc.array(commandArb, { minLength: 5, maxLength: 30 }).map((commands): Command[] => [
  { type: 'accounts', accounts: BASE_ACCOUNTS },
  { type: 'transfers', transfers: [{ id: 'fund', debitAccountId: 'w', creditAccountId: 'dm', amount: 200n }, { id: 'fund2', debitAccountId: 'cm', creditAccountId: 'w', amount: 300n }] },
  ...commands,
]);

interface Harness {
  ledger: Ledger;
  clock: { ms: number };
}

let runCounter = 0;
/** Result codes seen, printed with LEDGER_MODEL_STATS=1 to check the generators reach every path. */
const seen = new Map<string, number>();
const tally = (codes: string[]) => codes.forEach((c) => seen.set(c, (seen.get(c) ?? 0) + 1));

/**
 * Runs one scenario. With `concurrent`, every request between two clock moves is submitted without
 * waiting for the previous one, so the SQL writer packs them into shared batches; results must still
 * be exactly the model's one-at-a-time results, in submission order.
 */
async function runScenario(h: Harness, commands: Command[], concurrent: boolean): Promise<void> {
  const p = `r${(runCounter += 1)}_`;
  const model = new LedgerModel();
  model.nowMs = h.clock.ms;
  const ns = <T extends { id: string }>(x: T): T => ({ ...x, id: p + x.id });
  const nsTransfer = (t: ModelTransferInput): ModelTransferInput => {
    const out = ns(t);
    for (const key of ['debitAccountId', 'creditAccountId', 'pendingId'] as const) if (out[key] !== undefined) out[key] = p + out[key];
    return out;
  };
  const sent: ModelTransferInput[][] = [];
  const holdsSent: string[] = [];
  let inFlight: Promise<void>[] = [];
  const flush = async () => {
    await Promise.all(inFlight);
    inFlight = [];
  };
  const expect = async (got: Promise<unknown>, want: unknown, where: string) => {
    const run = got.then((value) => assert.deepEqual(value, want, where));
    if (concurrent) inFlight.push(run);
    else await run;
  };
  for (const [step, original] of commands.entries()) {
    let command = original;
    if (command.type === 'retry') {
      const previous = sent[sent.length - 1 - (command.back % Math.max(1, sent.length))];
      if (!previous) continue;
      command = { type: 'transfers', transfers: retried(previous, original.type === 'retry' ? original.change : 'none', step) };
    }
    const where = `step ${step}: ${JSON.stringify(command, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
    if (command.type === 'accounts') {
      const accounts = command.accounts.map(ns);
      await expect(h.ledger.createAccounts(accounts).then((r) => r.map((x) => x.status)), accounts.map((a) => model.createAccount(a)), where);
    } else if (command.type === 'transfers') {
      const resolved = command.transfers.map((t) => (t.pendingId?.startsWith('@') ? { ...t, pendingId: holdsSent[holdsSent.length - 1 - Number(t.pendingId.slice(1))] ?? 't0' } : t));
      sent.push(resolved);
      for (const t of resolved) if ((t.flags ?? 0) & TRANSFER_FLAGS.pending) holdsSent.push(t.id);
      const inputs = resolved.map(nsTransfer);
      const want = model.createTransfers(inputs);
      tally(want);
      await expect(h.ledger.createTransfers(inputs).then((r) => r.map((x) => x.status)), want, where);
    } else if (command.type === 'advance') {
      // The clock is read once per batch: everything submitted before the move must commit first.
      await flush();
      h.clock.ms += command.ms;
      model.nowMs = h.clock.ms;
    } else {
      // Only this run's holds can be due: earlier runs were swept clean at their end.
      await expect(h.ledger.expirePending(command.limit), model.expire(command.limit), where);
    }
  }
  await flush();
  await compareState(h.ledger, model, p);
  // Leave nothing due for the next run: move past every timeout and sweep.
  h.clock.ms += 7 * 24 * 3600 * 1000 + 1000;
  while ((await h.ledger.expirePending(1000)) > 0);
}

async function compareState(ledger: Ledger, model: LedgerModel, p: string): Promise<void> {
  const accounts = await ledger.lookupAccounts(ACCOUNTS.map((id) => p + id));
  const expected = ACCOUNTS.map((id) => model.s.accounts[p + id]).filter((a) => a !== undefined);
  assert.deepEqual(
    accounts.map((a) => [a.id, a.flags, a.debitsPending, a.debitsPosted, a.creditsPending, a.creditsPosted]),
    expected.map((a) => [a.id, a.flags, a.dp, a.dpo, a.cp, a.cpo]),
    'balances',
  );
  const ids = [...TRANSFER_IDS, 'fund', 'fund2'].map((id) => p + id);
  const pending = await ledger.lookupPending(ids);
  assert.deepEqual(Object.fromEntries(pending), Object.fromEntries(ids.flatMap((id) => (model.pendingState(id) ? [[id, model.pendingState(id)]] : []))), 'holds');
  const transfers = await ledger.lookupTransfers(ids);
  assert.deepEqual(
    transfers.map((t) => [t.id, t.debitAccountId, t.creditAccountId, t.amount, t.pendingId, t.flags, t.code, t.ledger]),
    ids.flatMap((id) => { const t = model.s.transfers[id]; return t ? [[t.id, t.dr, t.cr, t.amount, t.pendingId, t.flags, t.code, t.ledger]] : []; }),
    'transfers',
  );
  for (const account of ['dm', 'w']) {
    const seen: string[] = [];
    let before: string | undefined;
    do {
      const page = await ledger.getAccountTransfers(p + account, { limit: 3, ...(before ? { before } : {}) });
      seen.push(...page.transfers.map((t) => t.id));
      before = page.next;
    } while (before);
    const history = model.history.filter((id) => [model.s.transfers[id]!.dr, model.s.transfers[id]!.cr].includes(p + account)).reverse();
    assert.deepEqual(seen, history, `history of ${account}`);
  }
}

const engines = [
  { kind: 'memory', skip: undefined, runs: 150, open: async () => undefined },
  ...testDatabases.map((e) => ({ kind: e.kind, skip: e.skip, runs: e.kind === 'pglite' ? 40 : 40, open: () => e.open() })),
];

for (const engine of engines) {
  describe(`ledger vs reference model on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb | undefined;
    const h: Harness = { ledger: createMemoryLedger(), clock: { ms: 1_790_000_000_000 } };
    before(async () => {
      db = await engine.open();
      h.ledger = db ? await openLedger(db, { now: () => h.clock.ms }) : createMemoryLedger({ now: () => h.clock.ms });
    });
    // Every test must leave the ledger balanced, with every account within its flags.
    afterEach(() => assertLedgerHealthy(h.ledger));
    after(async () => {
      await assertLedgerHealthy(h.ledger);
      await h.ledger.close();
      await db?.close();
    });

    test('random sequences give the same results and balances as the model', async () => {
      await fc.assert(fc.asyncProperty(scenarioArb, (commands) => runScenario(h, commands, false)), { numRuns: engine.runs });
    });

    test('the same, with requests submitted concurrently (shared batches)', async () => {
      const before = h.ledger instanceof SqlLedger ? { ...h.ledger.writerStats } : undefined;
      await fc.assert(fc.asyncProperty(scenarioArb, (commands) => runScenario(h, commands, true)), { numRuns: engine.runs });
      if (before && h.ledger instanceof SqlLedger) {
        const after = h.ledger.writerStats;
        assert.ok(after.requests - before.requests > 2 * (after.batches - before.batches), `requests should share batches: ${JSON.stringify(after)}`);
      }
    });

    test('the invariants hold after the random sequences', async () => {
      await assertLedgerHealthy(h.ledger);
      if (process.env.LEDGER_MODEL_STATS) console.log(engine.kind, [...seen].sort((a, b) => b[1] - a[1]));
    });
  });
}
