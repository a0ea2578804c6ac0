import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { testDatabases, type TestDb } from '../testing/index.ts';
import { Approvals } from '../approvals/index.ts';
import { AuditLog, type AuditInput } from './index.ts';
import { hashStored, storedFromRow } from './rows.ts';

function paidCall(overrides: Partial<AuditInput> = {}): AuditInput {
  const callId = overrides.callId ?? `call_${randomUUID()}`;
  return {
    callId, outcome: 'captured', orgId: 'org_1', projectId: 'prj_1', userId: 'usr_1', grantId: 'grant_1', agentId: 'agt_1',
    taskId: 'task_1', serviceId: 'svc_search', service: 'search', sellerId: 'sel_demo', tool: 'GET /search', reason: 'find sources',
    edge: 'http', priceMicros: 250_000n, pricing: 'fixed', decision: 'allow', ruleId: 'allow-search', errorCode: null, errorData: null,
    policyTrace: [{ rule: 'allow-search', effect: 'allow', reason: 'search is allowed for research', decided: true }],
    approvalId: null, holdMicros: 250_000n, rail: 'balance', capturedMicros: 250_000n, feeMicros: 12_500n, status: 'ok',
    httpStatus: 200, summary: '10 results', latencyMs: 84, units: 1n,
    transfers: [
      { id: `${callId}:hold:wallet`, debit: 'wallet:usr_1', credit: 'escrow', amount: 250_000n, kind: 'hold:wallet' },
      { id: `${callId}:post:seller`, debit: 'escrow', credit: 'earnings:sel_demo', amount: 237_500n, kind: 'post' },
      { id: `${callId}:post:fee`, debit: 'escrow', credit: 'fees', amount: 12_500n, kind: 'post' },
    ],
    ...overrides,
  };
}

function refusal(errorCode: string, errorData: Record<string, unknown>, overrides: Partial<AuditInput> = {}): AuditInput {
  return paidCall({
    outcome: 'refused', decision: `refused_${errorCode}`, errorCode, errorData, holdMicros: 0n, capturedMicros: 0n, feeMicros: 0n,
    status: 'refused', httpStatus: null, summary: null, latencyMs: null, units: null, transfers: [], ...overrides,
  });
}

/** A tiny RFC 4180 reader, to check that what we write parses back to the same fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i += 1; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 1; } else field += ch;
  }
  return rows;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

for (const engine of testDatabases) {
  describe(`audit on ${engine.kind}`, { skip: engine.skip }, () => {
    async function withLog(fn: (db: TestDb, audit: AuditLog) => Promise<void>) {
      const db = await engine.open();
      try {
        await fn(db, new AuditLog({ db }));
      } finally {
        await db.close();
      }
    }

    /** A chain of five records to tamper with. */
    async function fiveRecords(audit: AuditLog) {
      for (let i = 0; i < 5; i += 1) await audit.append(paidCall({ callId: `call_${i}` }));
      assert.equal((await audit.verify()).ok, true);
    }

    test('append chains records, is idempotent by call and kind, and verifies', () => withLog(async (_db, audit) => {
      const first = await audit.append(paidCall({ callId: 'call_a' }));
      assert.match(first.id, /^rec_/);
      assert.equal(first.seq, 1n);
      assert.equal(first.prevHash, '0'.repeat(64));
      const again = await audit.append(paidCall({ callId: 'call_a', summary: 'a retry' }));
      assert.equal(again.id, first.id);
      const refused = await audit.append(refusal('approval_required', { approvalId: 'apr_1' }, { callId: 'call_b' }));
      const paid = await audit.append(paidCall({ callId: 'call_b', approvalId: 'apr_1' }));
      assert.equal(refused.seq, 2n);
      assert.equal(paid.seq, 3n);
      assert.equal(paid.prevHash, refused.hash);
      assert.equal((await audit.get('call_b'))!.id, paid.id);
      assert.deepEqual((await audit.history('call_b')).map((r) => r.outcome), ['refused', 'captured']);
      const stored = await audit.get('call_a');
      assert.deepEqual(stored, first);
      assert.deepEqual(await audit.verify(), { ok: true, checked: 3, headSeq: 3n, headHash: paid.hash });
      assert.deepEqual(await audit.head(), { seq: 3n, hash: paid.hash });
    }));

    test('many concurrent appends are group-committed into one valid chain', () => withLog(async (db, audit) => {
      const other = new AuditLog({ db }); // a second writer, as a second process would have
      const inputs = Array.from({ length: 400 }, (_, i) => paidCall({ callId: `call_${i}` }));
      const records = await Promise.all(inputs.map((input, i) => (i % 3 === 0 ? other : audit).append(input)));
      const seqs = records.map((r) => r.seq).sort((a, b) => (a < b ? -1 : 1));
      assert.deepEqual(seqs, Array.from({ length: 400 }, (_, i) => BigInt(i + 1)));
      assert.ok(audit.stats.batches < audit.stats.records, `batched: ${JSON.stringify(audit.stats)}`);
      const dupes = await Promise.all(inputs.slice(0, 50).map((input) => audit.append(input)));
      assert.deepEqual(dupes.map((r) => r.id), records.slice(0, 50).map((r) => r.id));
      assert.deepEqual(await audit.verify(), { ok: true, checked: 400, headSeq: 400n, headHash: (await audit.head()).hash });
    }));

    test('a bad record is refused alone; the rest of its batch commits', () => withLog(async (_db, audit) => {
      const results = await Promise.allSettled([
        audit.append(paidCall({ callId: 'ok_1' })),
        audit.append(paidCall({ callId: 'bad', priceMicros: -1n })),
        audit.append(paidCall({ callId: 'ok_2', summary: 'nul \u0000 inside' })),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      // Movements read back from a JSON column carry amounts as strings; they are taken exactly.
      const fromJson = JSON.parse(JSON.stringify(paidCall({ callId: 'ok_3' }).transfers, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
      const r = await audit.append(paidCall({ callId: 'ok_3', transfers: fromJson }));
      assert.equal(r.transfers[0]!.amount, 250_000n);
      assert.equal((await audit.verify()).ok, true);
    }));

    test('tamper: an edited field is detected', () => withLog(async (db, audit) => {
      await fiveRecords(audit);
      await db.query(`UPDATE audit_records SET captured_micros = 1 WHERE seq = 3`);
      const result = await audit.verify();
      assert.equal(result.ok, false);
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['edited', 3n]);
    }));

    test('tamper: an edit with a recomputed hash is still detected by the next link', () => withLog(async (db, audit) => {
      await fiveRecords(audit);
      await db.query(`UPDATE audit_records SET hash = repeat('a', 64) WHERE seq = 2`);
      const result = await audit.verify();
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['edited', 2n]);
    }));

    test('tamper: a deleted record is detected (middle, last, renumbered)', () => withLog(async (db, audit) => {
      await fiveRecords(audit);
      await db.query('DELETE FROM audit_records WHERE seq = 3');
      let result = await audit.verify();
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['deleted', 3n]);
      await db.query('UPDATE audit_records SET seq = seq - 1 WHERE seq > 3');
      result = await audit.verify();
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['deleted', 3n]);
    }));

    test('tamper: deleting the newest record is detected against the head', () => withLog(async (db, audit) => {
      await fiveRecords(audit);
      await db.query('DELETE FROM audit_records WHERE seq = 5');
      const result = await audit.verify();
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['deleted', 5n]);
    }));

    test('tamper: a forged record is detected (appended past the head, or slipped into the middle)', () => withLog(async (db, audit) => {
      await fiveRecords(audit);
      const forged = `INSERT INTO audit_records SELECT $1, 'rec_forged', 'call_forged', outcome, 'captured', org_id, project_id, user_id, grant_id,
        agent_id, task_id, service, service_id, seller_id, tool, reason, edge, price_micros, pricing, decision, rule_id, error_code,
        error_data, policy_trace, approval_id, hold_micros, rail, captured_micros, fee_micros, status, http_status, summary, latency_ms,
        units, transfers, created_at, $2, repeat('f', 64) FROM audit_records WHERE seq = 5`;
      const head = await audit.head();
      await db.query(forged, [6n, head.hash]);
      let result = await audit.verify();
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['inserted', 6n]);
      await db.query(`DELETE FROM audit_records WHERE id = 'rec_forged'`);
      assert.equal((await audit.verify()).ok, true);
      // Make room at 3 and slip a record in that links to record 2; the head is moved too.
      for (const seq of [5, 4, 3]) await db.query('UPDATE audit_records SET seq = seq + 1 WHERE seq = $1', [seq]);
      const two = await db.query<{ hash: string }>('SELECT hash FROM audit_records WHERE seq = 2');
      await db.query(forged.replace('WHERE seq = 5', 'WHERE seq = 6'), [3n, two[0]!.hash]);
      await db.query('UPDATE audit_head SET seq = 6');
      result = await audit.verify();
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['inserted', 3n]);
    }));

    test('tamper: a forged record with a correctly computed hash is detected by the link around it', () => withLog(async (db, audit) => {
      await fiveRecords(audit);
      const [five] = await db.query<Record<string, unknown>>('SELECT * FROM audit_records WHERE seq = 5');
      const [two] = await db.query<{ hash: string }>('SELECT hash FROM audit_records WHERE seq = 2');
      for (const seq of [5, 4, 3]) await db.query('UPDATE audit_records SET seq = seq + 1 WHERE seq = $1', [seq]);
      const forged = { ...storedFromRow(five!), seq: 3n, id: 'rec_forged', call_id: 'call_forged', prev_hash: two!.hash };
      const hash = hashStored(forged);
      await db.query(
        `INSERT INTO audit_records SELECT $1, $2, $3, outcome, 'captured', org_id, project_id, user_id, grant_id, agent_id, task_id, service,
          service_id, seller_id, tool, reason, edge, price_micros, pricing, decision, rule_id, error_code, error_data, policy_trace, approval_id,
          hold_micros, rail, captured_micros, fee_micros, status, http_status, summary, latency_ms, units, transfers, created_at, $4, $5
         FROM audit_records WHERE seq = 6`,
        [3n, 'rec_forged', 'call_forged', two!.hash, hash],
      );
      await db.query('UPDATE audit_head SET seq = 6');
      const result = await audit.verify();
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['inserted', 3n]);
    }));

    test('tamper: two swapped records are detected as reordered', () => withLog(async (db, audit) => {
      await fiveRecords(audit);
      await db.query('UPDATE audit_records SET seq = 1000 WHERE seq = 3');
      await db.query('UPDATE audit_records SET seq = 3 WHERE seq = 4');
      await db.query('UPDATE audit_records SET seq = 4 WHERE seq = 1000');
      const result = await audit.verify();
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['reordered', 3n]);
    }));

    test('anchors catch a rewrite that recomputed every hash and the head', () => withLog(async (db, audit) => {
      await fiveRecords(audit);
      const anchor = await audit.head();
      await db.query('DELETE FROM audit_records WHERE seq = 5');
      const four = await db.query<{ hash: string }>('SELECT hash FROM audit_records WHERE seq = 4');
      await db.query('UPDATE audit_head SET seq = 4, hash = $1', [four[0]!.hash]);
      assert.equal((await audit.verify()).ok, true, 'undetectable without an anchor');
      const result = await audit.verify({ anchors: [anchor] });
      assert.deepEqual(!result.ok && [result.problem, result.firstBadSeq], ['deleted', 5n]);
    }));

    test('query by task, agent, grant, user, service, outcome and time, newest first, with a cursor', () => withLog(async (_db, audit) => {
      let ms = Date.parse('2026-11-01T00:00:00Z');
      const timed = new AuditLog({ db: _db, now: () => new Date((ms += 60_000)) });
      for (let i = 0; i < 6; i += 1) {
        await timed.append(paidCall({ callId: `c${i}`, taskId: i < 3 ? 'task_a' : 'task_b', agentId: i % 2 ? 'agt_odd' : 'agt_even', service: i === 5 ? 'maps' : 'search' }));
      }
      await timed.append(refusal('budget_exceeded', { limit: 'grant_total' }, { callId: 'c6', grantId: 'grant_2', userId: 'usr_2' }));
      const ids = async (q: Parameters<AuditLog['query']>[0]) => (await audit.query(q)).records.map((r) => r.callId);
      assert.deepEqual(await ids({ taskId: 'task_a' }), ['c2', 'c1', 'c0']);
      assert.deepEqual(await ids({ agentId: 'agt_odd', taskId: 'task_b' }), ['c5', 'c3']);
      assert.deepEqual(await ids({ grantId: 'grant_2' }), ['c6']);
      assert.deepEqual(await ids({ userId: 'usr_2' }), ['c6']);
      assert.deepEqual(await ids({ service: 'maps' }), ['c5']);
      assert.deepEqual(await ids({ outcome: 'refused' }), ['c6']);
      assert.deepEqual(await ids({ from: new Date('2026-11-01T00:02:00Z'), to: new Date('2026-11-01T00:04:00Z') }), ['c2', 'c1']);
      const page1 = await audit.query({ orgId: 'org_1', limit: 4 });
      assert.deepEqual(page1.records.map((r) => r.callId), ['c6', 'c5', 'c4', 'c3']);
      const page2 = await audit.query({ orgId: 'org_1', limit: 4, before: page1.next! });
      assert.deepEqual(page2.records.map((r) => r.callId), ['c2', 'c1', 'c0']);
      assert.equal(page2.next, undefined);
      await assert.rejects(audit.query({ before: 'nope' }), /before/);
    }));

    test('CSV export escapes commas, quotes and newlines and parses back; JSON Lines and journal stream every record', () => withLog(async (_db, audit) => {
      const reason = 'compare "A, B" and C\nthen decide';
      await audit.append(paidCall({ callId: 'csv_1', reason, summary: '=SUM(A1:A9)' }));
      await audit.append(paidCall({ callId: 'csv_2', tool: 'POST /a,b' }));
      const csv = (await collect(audit.exportCsv({ orgId: 'org_1' }))).join('');
      const rows = parseCsv(csv);
      const header = rows[0]!;
      assert.equal(rows.length, 3);
      const col = (name: string, row = 1) => rows[row]![header.indexOf(name)];
      assert.equal(col('reason'), reason);
      assert.equal(col('summary'), "'=SUM(A1:A9)");
      assert.equal(col('captured'), '0.25');
      assert.equal(col('fee'), '0.0125');
      assert.equal(col('tool', 2), 'POST /a,b');
      const jsonl = await collect(audit.exportJsonl({}));
      assert.equal(jsonl.length, 2);
      assert.ok(jsonl.every((l) => l.endsWith('\n')));
      const first = JSON.parse(jsonl[0]!);
      assert.equal(first.reason, reason);
      assert.equal(first.price_micros, '250000');
      const journal = (await collect(audit.exportJournal({}))).map((l) => JSON.parse(l));
      assert.equal(journal.length, 6);
      assert.deepEqual(journal[1], {
        seq: '1', record_id: first.id, created_at: first.created_at, call_id: 'csv_1', outcome: 'captured', org_id: 'org_1', user_id: 'usr_1',
        grant_id: 'grant_1', task_id: 'task_1', agent_id: 'agt_1', service: 'search', tool: 'GET /search',
        transfer_id: 'csv_1:post:seller', kind: 'post', debit: 'escrow', credit: 'earnings:sel_demo', amount: '237500',
      });
    }));

    test('exports page through more records than one page', () => withLog(async (_db, audit) => {
      await Promise.all(Array.from({ length: 1_203 }, (_, i) => audit.append(paidCall({ callId: `p${i}`, transfers: [] }))));
      const lines = await collect(audit.exportJsonl({ taskId: 'task_1' }));
      assert.equal(lines.length, 1_203);
      assert.deepEqual(lines.slice(0, 3).map((l) => JSON.parse(l).seq), ['1', '2', '3']);
    }));

    test('explain: paid, budget-blocked, policy-denied and approval-pending calls', () => withLog(async (db, audit) => {
      await audit.append(paidCall({ callId: 'paid_1', approvalId: null }));
      const paid = await audit.explain('paid_1');
      assert.match(paid, /^Paid 0\.25 for call paid_1 to search \(GET \/search\) for task task_1 by agent agt_1 under grant grant_1 of user usr_1\./);
      assert.match(paid, /declared reason: "find sources"/);
      assert.match(paid, /Policy allowed it by rule allow-search \(search is allowed for research\)\./);
      assert.match(paid, /0\.25 was held across every limit and 0\.25 captured on the balance rail, of which 0\.0125 is the platform fee\./);
      assert.match(paid, /answered ok \(HTTP 200\) in 84 ms: 10 results\./);

      await audit.append(refusal('budget_exceeded', { limit: 'user_monthly', cap: '10.00', used: '9.90', held: '0.00', remaining: '0.10', requested: '0.25' }, { callId: 'budget_1' }));
      assert.match(await audit.explain('budget_1'),
        /^Blocked before any money moved: call budget_1 .* was refused because it would exceed the user's monthly limit: the cap is 10\.00, 9\.90 is used, 0\.00 held and 0\.10 remains, but this call needed 0\.25\./);

      await audit.append(refusal('policy_denied', { rule: 'no-crypto', reason: 'crypto exchanges are not allowed' }, { callId: 'deny_1', ruleId: 'no-crypto', decision: 'deny' }));
      assert.match(await audit.explain('deny_1'), /refused because policy rule no-crypto denies it: crypto exchanges are not allowed\./);

      const approvals = new Approvals(db);
      const approval = await approvals.create({
        callId: 'wait_1', orgId: 'org_1', userId: 'usr_1', grantId: 'grant_1', service: 'search', tool: 'GET /search',
        priceMicros: 250_000n, trigger: 'trigger:price_above_threshold', explanation: 'Above 0.20',
      });
      await audit.append(refusal('approval_required', { approvalId: approval.id }, { callId: 'wait_1', approvalId: approval.id, ruleId: 'trigger:price_above_threshold', decision: 'require_approval' }));
      const pending = await audit.explain('wait_1');
      assert.match(pending, new RegExp(`refused because a person must approve it first \\(trigger:price_above_threshold\\)\\. Approval ${approval.id} is pending until `));
      await approvals.decide(approval.id, { decision: 'approve', decidedBy: 'ada@example.com' });
      assert.match(await audit.explain('wait_1'), /has since been approved by ada@example\.com; a retry with the approval id goes through\./);

      await audit.append(paidCall({ callId: 'void_1', outcome: 'voided', status: 'upstream_failed', httpStatus: 502, capturedMicros: 0n, feeMicros: 0n, summary: 'bad gateway' }));
      assert.match(await audit.explain('void_1'), /^Nothing was charged for call void_1 .*: the upstream failed \(HTTP 502\), so the 0\.25 held was released\./);
      await assert.rejects(audit.explain('call_unknown'), /No audit record/);
    }));
  });
}
