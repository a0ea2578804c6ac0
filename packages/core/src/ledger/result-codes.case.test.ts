/**
 * Every result code, on every store: one small scenario per code that must produce exactly it
 * (the invalid paths), precedence between codes, and the two-phase, closing, linked and expiry
 * semantics spelled out as examples.
 */
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { AMOUNT_MICROS_MAX, BALANCE_MICROS_MAX, HOLD_TIMEOUT_SECONDS_MAX, TRANSFERS_PER_REQUEST_MAX } from '../constants.ts';
import { TollgateError } from '../errors.ts';
import { testDatabases, type TestDb } from '../testing/databases.ts';
import { assertLedgerHealthy } from '../testing/invariants.ts';
import { createMemoryLedger } from './memory-store.ts';
import { openLedger } from './sql-store.ts';
import { ACCOUNT_FLAGS as AF, TRANSFER_FLAGS as TF, type AccountInput, type Ledger, type TransferInput, type TransferStatus } from './types.ts';

const PENDING = TF.pending;
const POST = TF.postPending;
const VOID = TF.voidPending;

interface Ctx {
  ledger: Ledger;
  clock: { ms: number };
  /** A fresh prefix per scenario so scenarios never see each other's ids. */
  p: string;
}

/** Accounts every scenario gets: w (world), dm (debits ≤ credits, funded 1,000), cm (credits ≤ debits, funded 1,000), x, l2 (ledger 2), eur. */
async function base(c: Ctx): Promise<(id: string) => string> {
  const n = (id: string) => c.p + id;
  const accounts: AccountInput[] = [
    { id: n('w'), ledger: 1, code: 1, currency: 'USD' },
    { id: n('dm'), ledger: 1, code: 1, currency: 'USD', flags: AF.debitsMustNotExceedCredits },
    { id: n('cm'), ledger: 1, code: 1, currency: 'USD', flags: AF.creditsMustNotExceedDebits },
    { id: n('x'), ledger: 1, code: 1, currency: 'USD' },
    { id: n('l2'), ledger: 2, code: 1, currency: 'USD' },
    { id: n('eur'), ledger: 1, code: 1, currency: 'EUR' },
  ];
  assert.ok((await c.ledger.createAccounts(accounts)).every((r) => r.status === 'created'));
  const funding = await c.ledger.createTransfers([
    { id: n('fund_dm'), debitAccountId: n('w'), creditAccountId: n('dm'), amount: 1_000n },
    { id: n('fund_cm'), debitAccountId: n('cm'), creditAccountId: n('w'), amount: 1_000n },
  ]);
  assert.deepEqual(funding.map((r) => r.status), ['created', 'created']);
  return n;
}

async function statuses(c: Ctx, transfers: TransferInput[]): Promise<TransferStatus[]> {
  return (await c.ledger.createTransfers(transfers)).map((r) => r.status);
}

type Scenario = (c: Ctx, n: (id: string) => string) => Promise<TransferStatus>;

/** A hold of `amount` from dm to x, created before the scenario's last request. */
async function hold(c: Ctx, n: (id: string) => string, id = 'h', amount = 100n, extra: Partial<TransferInput> = {}): Promise<void> {
  assert.deepEqual(await statuses(c, [{ id: n(id), debitAccountId: n('dm'), creditAccountId: n('x'), amount, flags: PENDING, ...extra }]), ['created']);
}

const one = async (c: Ctx, t: TransferInput) => (await statuses(c, [t]))[0]!;
const single = (n: (id: string) => string, extra: Partial<TransferInput> = {}): TransferInput => ({ id: n('t'), debitAccountId: n('w'), creditAccountId: n('x'), amount: 10n, ...extra });

const TRANSFER_CASES: Record<string, Scenario> = {
  id_must_not_be_empty: (c, n) => one(c, single(n, { id: '' })),
  id_too_long: (c, n) => one(c, single(n, { id: 'i'.repeat(201) })),
  reserved_flag: (c, n) => one(c, single(n, { flags: 1 << 12 })),
  flags_are_mutually_exclusive: (c, n) => one(c, single(n, { flags: PENDING | VOID })),
  debit_account_id_must_not_be_empty: (c, n) => one(c, single(n, { debitAccountId: '' })),
  credit_account_id_must_not_be_empty: (c, n) => one(c, { id: n('t'), debitAccountId: n('w'), amount: 1n }),
  accounts_must_be_different: (c, n) => one(c, single(n, { creditAccountId: n('w') })),
  pending_id_must_be_empty: (c, n) => one(c, single(n, { pendingId: n('h') })),
  pending_id_must_not_be_empty: (c, n) => one(c, { id: n('t'), flags: POST }),
  pending_id_must_be_different: (c, n) => one(c, { id: n('t'), pendingId: n('t'), flags: VOID }),
  timeout_reserved_for_pending_transfer: (c, n) => one(c, single(n, { timeoutSeconds: 5 })),
  timeout_invalid: (c, n) => one(c, single(n, { flags: PENDING, timeoutSeconds: HOLD_TIMEOUT_SECONDS_MAX + 1 })),
  closing_transfer_must_be_pending: (c, n) => one(c, single(n, { flags: TF.closingDebit })),
  amount_invalid: (c, n) => one(c, single(n, { amount: AMOUNT_MICROS_MAX + 1n })),
  code_invalid: (c, n) => one(c, single(n, { code: 0 })),
  ...existsCases(),
  id_already_failed: async (c, n) => {
    assert.equal(await one(c, single(n, { debitAccountId: n('nobody') })), 'debit_account_not_found');
    return one(c, single(n));
  },
  debit_account_not_found: (c, n) => one(c, single(n, { debitAccountId: n('nobody') })),
  credit_account_not_found: (c, n) => one(c, single(n, { creditAccountId: n('nobody') })),
  accounts_must_have_the_same_ledger: (c, n) => one(c, single(n, { creditAccountId: n('l2') })),
  accounts_must_have_the_same_currency: (c, n) => one(c, single(n, { creditAccountId: n('eur') })),
  transfer_must_have_the_same_ledger_as_accounts: (c, n) => one(c, single(n, { ledger: 2 })),
  pending_transfer_not_found: (c, n) => one(c, { id: n('t'), pendingId: n('nothing'), flags: POST }),
  pending_transfer_not_pending: async (c, n) => {
    await one(c, single(n, { id: n('s') }));
    return one(c, { id: n('t'), pendingId: n('s'), flags: POST });
  },
  pending_transfer_has_different_debit_account_id: async (c, n) => (await hold(c, n), one(c, { id: n('t'), pendingId: n('h'), flags: POST, debitAccountId: n('w') })),
  pending_transfer_has_different_credit_account_id: async (c, n) => (await hold(c, n), one(c, { id: n('t'), pendingId: n('h'), flags: POST, creditAccountId: n('w') })),
  pending_transfer_has_different_ledger: async (c, n) => (await hold(c, n), one(c, { id: n('t'), pendingId: n('h'), flags: POST, ledger: 2 })),
  pending_transfer_has_different_code: async (c, n) => (await hold(c, n), one(c, { id: n('t'), pendingId: n('h'), flags: POST, code: 9 })),
  exceeds_pending_transfer_amount: async (c, n) => (await hold(c, n), one(c, { id: n('t'), pendingId: n('h'), flags: POST, amount: 101n })),
  pending_transfer_has_different_amount: async (c, n) => (await hold(c, n), one(c, { id: n('t'), pendingId: n('h'), flags: VOID, amount: 99n })),
  pending_transfer_already_posted: async (c, n) => {
    await hold(c, n);
    assert.equal(await one(c, { id: n('p1'), pendingId: n('h'), flags: POST }), 'created');
    return one(c, { id: n('t'), pendingId: n('h'), flags: VOID });
  },
  pending_transfer_already_voided: async (c, n) => {
    await hold(c, n);
    assert.equal(await one(c, { id: n('v1'), pendingId: n('h'), flags: VOID }), 'created');
    return one(c, { id: n('t'), pendingId: n('h'), flags: POST });
  },
  pending_transfer_expired: async (c, n) => {
    await hold(c, n, 'h', 100n, { timeoutSeconds: 1 });
    c.clock.ms += 1_000;
    return one(c, { id: n('t'), pendingId: n('h'), flags: POST });
  },
  debit_account_already_closed: async (c, n) => {
    assert.equal(await one(c, { id: n('close'), debitAccountId: n('x'), creditAccountId: n('w'), amount: 0n, flags: PENDING | TF.closingDebit }), 'created');
    return one(c, single(n, { debitAccountId: n('x'), creditAccountId: n('w') }));
  },
  credit_account_already_closed: async (c, n) => {
    assert.equal(await one(c, { id: n('close'), debitAccountId: n('w'), creditAccountId: n('x'), amount: 0n, flags: PENDING | TF.closingCredit }), 'created');
    return one(c, single(n));
  },
  overflows_debits: async (c, n) => overflow(c, n, 'debits'),
  overflows_credits: async (c, n) => overflow(c, n, 'credits'),
  exceeds_credits: (c, n) => one(c, { id: n('t'), debitAccountId: n('dm'), creditAccountId: n('x'), amount: 1_001n }),
  exceeds_debits: (c, n) => one(c, { id: n('t'), debitAccountId: n('x'), creditAccountId: n('cm'), amount: 1_001n }),
  linked_event_chain_open: async (c, n) => (await statuses(c, [single(n, { flags: TF.linked })]))[0]!,
};

/**
 * Pushes one account's debits (or credits) to BALANCE_MICROS_MAX with maximal transfers, 64 per request,
 * then one more micro-unit. Stores never let a balance column pass the Postgres bigint range.
 */
async function overflow(c: Ctx, n: (id: string) => string, side: 'debits' | 'credits'): Promise<TransferStatus> {
  const count = Number(BALANCE_MICROS_MAX / AMOUNT_MICROS_MAX);
  const [from, to] = side === 'debits' ? [n('x'), n('w')] : [n('w'), n('x')];
  // Spread the other side over fresh accounts so only `x` reaches the maximum.
  const sinks = Array.from({ length: Math.ceil(count / 1000) }, (_, i) => ({ id: n(`sink${i}`), ledger: 1, code: 1, currency: 'USD' }));
  await c.ledger.createAccounts(sinks);
  for (let i = 0; i < count; i += TRANSFERS_PER_REQUEST_MAX) {
    const batch = Array.from({ length: Math.min(TRANSFERS_PER_REQUEST_MAX, count - i) }, (_, j) => {
      const sink = sinks[Math.floor((i + j) / 1000)]!.id;
      return side === 'debits'
        ? { id: n(`o${i + j}`), debitAccountId: from, creditAccountId: sink, amount: AMOUNT_MICROS_MAX }
        : { id: n(`o${i + j}`), debitAccountId: sink, creditAccountId: to, amount: AMOUNT_MICROS_MAX };
    });
    assert.ok((await statuses(c, batch)).every((s) => s === 'created'));
  }
  const rest = BALANCE_MICROS_MAX - BigInt(count) * AMOUNT_MICROS_MAX;
  const sink = n('sink0');
  const last = side === 'debits' ? { debitAccountId: from, creditAccountId: sink } : { debitAccountId: sink, creditAccountId: to };
  assert.equal(await one(c, { id: n('fill'), ...last, amount: rest }), 'created');
  return one(c, { id: n('t'), ...last, amount: 1n });
}

function existsCases(): Record<string, Scenario> {
  const original = (n: (id: string) => string): TransferInput => ({ id: n('t'), debitAccountId: n('dm'), creditAccountId: n('x'), amount: 10n, flags: PENDING, timeoutSeconds: 60, code: 3, metadata: { a: 1, b: 2 } });
  const retry = (change: (t: TransferInput, n: (id: string) => string) => void): Scenario => async (c, n) => {
    assert.equal(await one(c, original(n)), 'created');
    const again = original(n);
    change(again, n);
    return one(c, again);
  };
  return {
    exists_with_different_flags: retry((t) => (t.flags = PENDING | TF.closingCredit)),
    exists_with_different_pending_id: async (c, n) => {
      await hold(c, n, 'h1');
      await hold(c, n, 'h2');
      assert.equal(await one(c, { id: n('t'), pendingId: n('h1'), flags: POST }), 'created');
      return one(c, { id: n('t'), pendingId: n('h2'), flags: POST });
    },
    exists_with_different_timeout: retry((t) => (t.timeoutSeconds = 61)),
    exists_with_different_debit_account_id: retry((t, n) => (t.debitAccountId = n('w'))),
    exists_with_different_credit_account_id: retry((t, n) => (t.creditAccountId = n('w'))),
    exists_with_different_amount: retry((t) => (t.amount = 11n)),
    exists_with_different_metadata: retry((t) => (t.metadata = { a: 1 })),
    exists_with_different_ledger: retry((t) => (t.ledger = 2)),
    exists_with_different_code: retry((t) => (t.code = 4)),
    // Key order does not matter: metadata compares canonically (jsonb reorders keys).
    exists: retry((t) => (t.metadata = { b: 2, a: 1 })),
  };
}

const ACCOUNT_CASES: Record<string, AccountInput> = {
  id_must_not_be_empty: { id: '', ledger: 1, code: 1, currency: 'USD' },
  id_too_long: { id: 'a'.repeat(201), ledger: 1, code: 1, currency: 'USD' },
  ledger_invalid: { id: 'acct', ledger: 0, code: 1, currency: 'USD' },
  code_invalid: { id: 'acct', ledger: 1, code: -1, currency: 'USD' },
  currency_invalid: { id: 'acct', ledger: 1, code: 1, currency: 'usd' },
  reserved_flag: { id: 'acct', ledger: 1, code: 1, currency: 'USD', flags: 1 << 10 },
  flags_are_mutually_exclusive: { id: 'acct', ledger: 1, code: 1, currency: 'USD', flags: AF.debitsMustNotExceedCredits | AF.creditsMustNotExceedDebits },
};

const engines = [
  { kind: 'memory', skip: undefined as string | undefined, open: async (): Promise<TestDb | undefined> => undefined },
  ...testDatabases.map((e) => ({ kind: e.kind, skip: e.skip, open: (): Promise<TestDb | undefined> => e.open() })),
];

for (const engine of engines) {
  describe(`ledger result codes on ${engine.kind}`, { skip: engine.skip }, () => {
    let db: TestDb | undefined;
    const clock = { ms: 1_790_000_000_000 };
    let ledger: Ledger;
    let counter = 0;
    const ctx = (): Ctx => ({ ledger, clock, p: `s${(counter += 1)}_` });
    before(async () => {
      db = await engine.open();
      ledger = db ? await openLedger(db, { now: () => clock.ms }) : createMemoryLedger({ now: () => clock.ms });
    });
    // Every test must leave the ledger balanced, with every account within its flags.
    afterEach(() => assertLedgerHealthy(ledger));
    after(async () => {
      await assertLedgerHealthy(ledger);
      await ledger.close();
      await db?.close();
    });

    for (const [code, scenario] of Object.entries(TRANSFER_CASES)) {
      test(`transfer → ${code}`, async () => {
        const c = ctx();
        const n = await base(c);
        assert.equal(await scenario(c, n), code);
      });
    }

    for (const [code, input] of Object.entries(ACCOUNT_CASES)) {
      test(`account → ${code}`, async () => {
        const c = ctx();
        const [result] = await c.ledger.createAccounts([{ ...input, id: input.id && input.id.length <= 200 ? c.p + input.id : input.id }]);
        assert.equal(result!.status, code);
      });
    }

    test('account → exists, and exists_with_different_* in precedence order', async () => {
      const c = ctx();
      const a: AccountInput = { id: `${c.p}a`, ledger: 1, code: 1, currency: 'USD', flags: AF.debitsMustNotExceedCredits, metadata: { owner: 'u1', tier: 2 } };
      const results = await c.ledger.createAccounts([
        a,
        { ...a, metadata: { tier: 2, owner: 'u1' } },
        { ...a, ledger: 2, code: 2 },
        { ...a, code: 2, currency: 'EUR' },
        { ...a, currency: 'EUR', flags: 0 },
        { ...a, flags: 0, metadata: {} },
        { ...a, metadata: {} },
      ]);
      assert.deepEqual(results.map((r) => r.status), ['created', 'exists', 'exists_with_different_ledger', 'exists_with_different_code', 'exists_with_different_currency', 'exists_with_different_flags', 'exists_with_different_metadata']);
    });

    test('precedence: the earliest failing check wins', async () => {
      const c = ctx();
      const n = await base(c);
      assert.deepEqual(
        await statuses(c, [
          { id: '', debitAccountId: n('w'), creditAccountId: n('w'), amount: -1n },
          { id: n('a'), debitAccountId: n('w'), creditAccountId: n('w'), amount: -1n, flags: PENDING | POST },
          { id: n('b'), debitAccountId: n('w'), creditAccountId: n('w'), amount: -1n },
          { id: n('c'), debitAccountId: n('nobody'), creditAccountId: n('l2'), amount: -1n },
          { id: n('d'), debitAccountId: n('nobody'), creditAccountId: n('l2'), amount: 1n },
          { id: n('e'), debitAccountId: n('dm'), creditAccountId: n('l2'), amount: 5_000n },
        ]),
        ['id_must_not_be_empty', 'flags_are_mutually_exclusive', 'accounts_must_be_different', 'amount_invalid', 'debit_account_not_found', 'accounts_must_have_the_same_ledger'],
      );
    });

    test('linked chain: the failing event carries its real code, the others linked_event_failed, nothing applies', async () => {
      const c = ctx();
      const n = await base(c);
      const results = await statuses(c, [
        { id: n('a'), debitAccountId: n('dm'), creditAccountId: n('x'), amount: 600n, flags: PENDING | TF.linked },
        { id: n('b'), debitAccountId: n('dm'), creditAccountId: n('x'), amount: 600n, flags: PENDING | TF.linked },
        { id: n('c'), debitAccountId: n('w'), creditAccountId: n('x'), amount: 1n },
        { id: n('d'), debitAccountId: n('dm'), creditAccountId: n('x'), amount: 600n, flags: PENDING },
      ]);
      assert.deepEqual(results, ['linked_event_failed', 'exceeds_credits', 'linked_event_failed', 'created']);
      const [dm] = await c.ledger.lookupAccounts([n('dm')]);
      assert.equal(dm!.debitsPending, 600n, 'only the independent hold applied');
      assert.deepEqual(await c.ledger.lookupTransfers([n('a'), n('c')]), []);
      // The failing id is burned; the others can be retried.
      assert.deepEqual(await statuses(c, [{ id: n('b'), debitAccountId: n('dm'), creditAccountId: n('x'), amount: 1n }, { id: n('a'), debitAccountId: n('dm'), creditAccountId: n('x'), amount: 1n }]), ['id_already_failed', 'created']);
    });

    test('two-phase: partial post releases the rest once; omitted amount posts all; void releases all', async () => {
      const c = ctx();
      const n = await base(c);
      await hold(c, n, 'h1', 300n);
      await hold(c, n, 'h2', 200n);
      await hold(c, n, 'h3', 100n);
      assert.deepEqual(
        await statuses(c, [
          { id: n('p1'), pendingId: n('h1'), flags: POST, amount: 120n },
          { id: n('p2'), pendingId: n('h2'), flags: POST },
          { id: n('v3'), pendingId: n('h3'), flags: VOID },
          { id: n('p1'), pendingId: n('h1'), flags: POST, amount: 120n },
          { id: n('p2'), pendingId: n('h2'), flags: POST, amount: 200n },
          { id: n('p1b'), pendingId: n('h1'), flags: POST, amount: 1n },
        ]),
        ['created', 'created', 'created', 'exists', 'exists', 'pending_transfer_already_posted'],
      );
      const [dm, x] = await c.ledger.lookupAccounts([n('dm'), n('x')]);
      assert.deepEqual([dm!.debitsPending, dm!.debitsPosted, x!.creditsPending, x!.creditsPosted], [0n, 320n, 0n, 320n]);
      const [p2] = await c.ledger.lookupTransfers([n('p2')]);
      assert.deepEqual([p2!.amount, p2!.debitAccountId, p2!.creditAccountId, p2!.pendingId], [200n, n('dm'), n('x'), n('h2')]);
      assert.deepEqual(Object.fromEntries(await c.ledger.lookupPending([n('h1'), n('h2'), n('h3')])), { [n('h1')]: 'posted', [n('h2')]: 'posted', [n('h3')]: 'voided' });
    });

    test('closed accounts refuse new transfers, still resolve earlier holds, and reopen when the closing hold is voided', async () => {
      const c = ctx();
      const n = await base(c);
      await hold(c, n, 'before', 50n);
      await hold(c, n, 'before2', 50n);
      assert.equal(await one(c, { id: n('close'), debitAccountId: n('dm'), creditAccountId: n('w'), amount: 0n, flags: PENDING | TF.closingDebit }), 'created');
      assert.equal((await c.ledger.lookupAccounts([n('dm')]))[0]!.flags & AF.closed, AF.closed);
      assert.deepEqual(
        await statuses(c, [
          { id: n('new'), debitAccountId: n('dm'), creditAccountId: n('x'), amount: 1n },
          { id: n('post'), pendingId: n('before'), flags: POST, amount: 10n },
          { id: n('void'), pendingId: n('before2'), flags: VOID },
        ]),
        ['debit_account_already_closed', 'created', 'created'],
      );
      assert.equal(await one(c, { id: n('reopen'), pendingId: n('close'), flags: VOID }), 'created');
      assert.equal((await c.ledger.lookupAccounts([n('dm')]))[0]!.flags & AF.closed, 0);
      assert.equal(await one(c, { id: n('new2'), debitAccountId: n('dm'), creditAccountId: n('x'), amount: 1n }), 'created');
    });

    test('expiry: an expired hold cannot resolve, stays reserved until swept, then releases (and reopens a closed account)', async () => {
      const c = ctx();
      const n = await base(c);
      await hold(c, n, 'h', 400n, { timeoutSeconds: 2 });
      assert.equal(await one(c, { id: n('close'), debitAccountId: n('x'), creditAccountId: n('w'), amount: 0n, flags: PENDING | TF.closingDebit, timeoutSeconds: 2 }), 'created');
      c.clock.ms += 1_999;
      assert.deepEqual(Object.fromEntries(await c.ledger.lookupPending([n('h')])), { [n('h')]: 'pending' });
      c.clock.ms += 1;
      assert.deepEqual(Object.fromEntries(await c.ledger.lookupPending([n('h')])), { [n('h')]: 'expired' });
      assert.equal(await one(c, { id: n('v'), pendingId: n('h'), flags: VOID }), 'pending_transfer_expired');
      assert.equal((await c.ledger.lookupAccounts([n('dm')]))[0]!.debitsPending, 400n, 'reserved until the sweeper runs');
      let swept = 0;
      for (let got = -1; got !== 0; swept += got) got = await c.ledger.expirePending(1);
      assert.ok(swept >= 2);
      const [dm, x] = await c.ledger.lookupAccounts([n('dm'), n('x')]);
      assert.deepEqual([dm!.debitsPending, dm!.debitsPosted], [0n, 0n]);
      assert.equal(x!.flags & AF.closed, 0, 'an expired closing hold reopens the account');
      // Expiry is final, not transient: the same answer again (the id is not burned).
      assert.equal(await one(c, { id: n('v'), pendingId: n('h'), flags: VOID }), 'pending_transfer_expired');
    });

    test('history pages newest first with an opaque cursor', async () => {
      const c = ctx();
      const n = await base(c);
      for (let i = 0; i < 7; i += 1) assert.equal(await one(c, { id: n(`t${i}`), debitAccountId: n('w'), creditAccountId: n('x'), amount: BigInt(i + 1) }), 'created');
      const seen: string[] = [];
      let before: string | undefined;
      let pages = 0;
      do {
        const page = await c.ledger.getAccountTransfers(n('x'), { limit: 3, ...(before ? { before } : {}) });
        seen.push(...page.transfers.map((t) => t.id));
        before = page.next;
        pages += 1;
      } while (before);
      assert.equal(pages, 3);
      assert.deepEqual(seen, [6, 5, 4, 3, 2, 1, 0].map((i) => n(`t${i}`)));
      await assert.rejects(c.ledger.getAccountTransfers(n('x'), { before: 'nonsense' }), (e: unknown) => e instanceof TollgateError && e.code === 'invalid_request');
      await assert.rejects(c.ledger.getAccountTransfers(n('x'), { limit: 0 }), TollgateError);
    });

    test('malformed requests throw invalid_request instead of answering with codes', async () => {
      const c = ctx();
      const n = await base(c);
      const many = Array.from({ length: TRANSFERS_PER_REQUEST_MAX + 1 }, (_, i) => single(n, { id: n(`m${i}`) }));
      await assert.rejects(c.ledger.createTransfers(many), (e: unknown) => e instanceof TollgateError && e.code === 'invalid_request');
      await assert.rejects(c.ledger.createTransfers([single(n, { metadata: [] as unknown as Record<string, unknown> })]), TollgateError);
      await assert.rejects(c.ledger.createAccounts([{ id: n('big'), ledger: 1, code: 1, currency: 'USD', metadata: { blob: 'x'.repeat(5_000) } }]), TollgateError);
      await assert.rejects(c.ledger.expirePending(0), TollgateError);
      assert.deepEqual(await c.ledger.createTransfers([]), []);
    });
  });
}
