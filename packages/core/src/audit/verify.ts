/**
 * @module audit/verify
 * Walks the chain in seq order, a page at a time, and names the first thing that is wrong:
 *  - `inserted`: a record past the head, or one whose successor links over it to its predecessor;
 *  - `deleted`: a gap in seq, records renumbered to close a gap, or fewer records than the head says;
 *  - `reordered`: a record that links to one stored after it;
 *  - `edited`: a record whose content no longer hashes to its hash, or whose hash a successor no
 *    longer links to.
 * An attacker who can rewrite the table, recompute every later hash AND move the head is caught
 * only by comparing with anchors published elsewhere (`verify({ anchors })`).
 */
import type { Queryable } from '../db/db.ts';
import { GENESIS_HASH } from './canonical.ts';
import { hashStored, storedFromRow, type Row, type Stored } from './rows.ts';
import type { AuditAnchor, TamperProblem, VerifyResult } from './types.ts';

export const VERIFY_PAGE_SIZE = 1_000;

interface Cursor {
  expectedSeq: bigint;
  prevHash: string;
  prevPrevHash: string | null;
  headSeq: bigint;
}

type Finding = { problem: TamperProblem; seq: bigint; detail: string } | undefined;

async function seqOfHash(db: Queryable, hash: string): Promise<bigint | undefined> {
  const rows = await db.query<{ seq: bigint }>('SELECT seq FROM audit_records WHERE hash = $1', [hash]);
  return rows[0] ? BigInt(rows[0].seq) : undefined;
}

async function checkRecord(db: Queryable, s: Stored, hash: string, c: Cursor): Promise<Finding> {
  if (s.seq > c.headSeq) return { problem: 'inserted', seq: s.seq, detail: `record ${s.seq} is past the chain head ${c.headSeq}` };
  if (s.seq !== c.expectedSeq) return { problem: 'deleted', seq: c.expectedSeq, detail: `seq jumps from ${c.expectedSeq - 1n} to ${s.seq}` };
  const selfOk = hashStored(s) === hash;
  if (s.prev_hash !== c.prevHash) {
    if (c.prevPrevHash !== null && s.prev_hash === c.prevPrevHash) {
      return { problem: 'inserted', seq: s.seq - 1n, detail: `record ${s.seq} links past record ${s.seq - 1n}` };
    }
    const linked = await seqOfHash(db, s.prev_hash);
    if (linked !== undefined && linked > s.seq) {
      return { problem: 'reordered', seq: s.seq, detail: `record ${s.seq} follows record ${linked}, which is stored after it` };
    }
    if (!selfOk && hashStored({ ...s, seq: s.seq + 1n }) === hash) {
      return { problem: 'deleted', seq: s.seq, detail: `record ${s.seq} was renumbered from ${s.seq + 1n}: a record before it was removed` };
    }
    const at = selfOk && s.seq > 1n ? s.seq - 1n : s.seq;
    return { problem: 'edited', seq: at, detail: `record ${s.seq} does not link to the hash of record ${s.seq - 1n}` };
  }
  if (selfOk) return undefined;
  // A record that doesn't hash, whose successor links to the same predecessor, was slipped in.
  const [next] = await db.query<{ prev_hash: string }>('SELECT prev_hash FROM audit_records WHERE seq = $1', [s.seq + 1n]);
  if (next && next.prev_hash === s.prev_hash) return { problem: 'inserted', seq: s.seq, detail: `record ${s.seq} sits between two records that link to each other` };
  return { problem: 'edited', seq: s.seq, detail: `record ${s.seq} no longer matches its hash` };
}

function anchorFinding(s: Stored, hash: string, anchors: ReadonlyMap<bigint, string>): Finding {
  const expected = anchors.get(s.seq);
  if (expected !== undefined && expected !== hash) return { problem: 'edited', seq: s.seq, detail: `record ${s.seq} differs from its published anchor` };
  return undefined;
}

export async function verifyChain(db: Queryable, options: { anchors?: readonly AuditAnchor[]; pageSize?: number } = {}): Promise<VerifyResult> {
  const [head] = await db.query<{ seq: bigint; hash: string }>('SELECT seq, hash FROM audit_head WHERE id = 1');
  if (!head) throw new Error('audit_head is missing');
  const anchors = new Map((options.anchors ?? []).map((a) => [BigInt(a.seq), a.hash]));
  const pageSize = options.pageSize ?? VERIFY_PAGE_SIZE;
  const c: Cursor = { expectedSeq: 1n, prevHash: GENESIS_HASH, prevPrevHash: null, headSeq: BigInt(head.seq) };
  let checked = 0;
  let lastSeq = 0n;
  for (;;) {
    const rows = await db.query<Row>('SELECT * FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT $2', [lastSeq, pageSize]);
    for (const row of rows) {
      const s = storedFromRow(row);
      const hash = row.hash as string;
      const finding = (await checkRecord(db, s, hash, c)) ?? anchorFinding(s, hash, anchors);
      if (finding) return { ok: false, checked, firstBadSeq: finding.seq, problem: finding.problem, detail: finding.detail };
      checked += 1;
      c.prevPrevHash = c.prevHash;
      c.prevHash = hash;
      c.expectedSeq = s.seq + 1n;
      lastSeq = s.seq;
    }
    if (rows.length < pageSize) break;
  }
  const anchoredMax = [...anchors.keys()].reduce((m, s) => (s > m ? s : m), 0n);
  if (lastSeq < c.headSeq || lastSeq < anchoredMax) {
    return { ok: false, checked, firstBadSeq: lastSeq + 1n, problem: 'deleted', detail: `the chain ends at ${lastSeq} but the head is at ${c.headSeq}` };
  }
  if (c.prevHash !== head.hash) return { ok: false, checked, firstBadSeq: lastSeq, problem: 'edited', detail: `the last record's hash differs from the head` };
  return { ok: true, checked, headSeq: c.headSeq, headHash: head.hash };
}
