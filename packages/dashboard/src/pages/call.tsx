/**
 * @module pages/call
 * One call: the explanation paragraph, the facts, the policy trace, the approval, the ledger
 * movements, every record of the call, and whether the audit hash chain verifies.
 */
import { get } from '../api.ts';
import { Badge, Card, ErrorNotice, PageHead, useLoad } from '../components/ui.tsx';
import type { PageContext } from '../context.ts';
import { count, dateTime, money } from '../format.ts';

interface Transfer { id: string; debit: string; credit: string; amount: string; kind: string }
interface Record_ {
  seq: string; id: string; callId: string; outcome: 'captured' | 'voided' | 'refused' | 'expired'; kind: string; orgId: string | null; userId: string | null; grantId: string | null;
  agentId: string | null; taskId: string | null; service: string; sellerId: string | null; tool: string; reason: string | null; edge: string; priceMicros: string; pricing: string;
  decision: string; ruleId: string | null; errorCode: string | null; errorData: Record<string, unknown> | null; policyTrace: unknown[]; approvalId: string | null; holdMicros: string;
  rail: string; capturedMicros: string; feeMicros: string; status: string; httpStatus: number | null; summary: string | null; latencyMs: number | null; transfers: Transfer[];
  createdAt: string; prevHash: string; hash: string;
}
interface Approval { id: string; state: string; scope: string; trigger: string; ruleId: string | null; explanation: string; decidedBy: string | null; decidedAt: string | null; note: string | null; expiresAt: string }
interface Chain { ok: boolean; checked: number; headSeq: string; problem?: string; firstBadSeq?: string; detail?: string; checkedAt: string; tookMs: number }

function traceRows(trace: unknown[]): { rule: string; effect: string; detail: string }[] {
  return trace.map((t) => {
    const e = (t && typeof t === 'object' ? t : { value: t }) as Record<string, unknown>;
    const rule = String(e.ruleId ?? e.rule ?? e.id ?? e.step ?? '—');
    const effect = String(e.effect ?? e.decision ?? (e.matched === true ? 'matched' : e.matched === false ? 'no match' : e.decided === true ? 'decided' : ''));
    const rest = Object.entries(e).filter(([k]) => !['ruleId', 'rule', 'id', 'step', 'effect', 'decision'].includes(k));
    return { rule, effect, detail: rest.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' · ') };
  });
}

/** Rate and free-tier limits count calls, not money. */
function isCount(t: Transfer): boolean {
  return [t.debit, t.credit].some((a) => /^(rate_per_minute|free_tier):/.test(a));
}

const TRANSFER_CODES: Record<string, string> = { 'code:1': 'Top-up', 'code:2': 'Charge', 'code:3': 'Seller earnings', 'code:4': 'Platform fee', 'code:5': 'Payout' };

/** `hold:grant_total` → "Hold on grant total", `post` → "Capture", `void` → "Release". */
function movementLabel(kind: string): string {
  if (kind.startsWith('hold:')) return `Hold on ${kind.slice(5).replaceAll('_', ' ')}`;
  if (kind === 'post') return 'Capture of a hold';
  if (kind === 'void') return 'Release of a hold';
  return TRANSFER_CODES[kind] ?? kind;
}

function ChainStatus(props: { seq: string }) {
  const chain = useLoad(() => get<Chain>('/v1/audit/verify'), [props.seq]);
  if (chain.error) return <ErrorNotice error={chain.error} />;
  if (!chain.data) return <p class="muted">Verifying the hash chain…</p>;
  const c = chain.data;
  const covered = BigInt(props.seq) <= BigInt(c.headSeq);
  return (
    <div class="chain" data-testid="chain-status" data-ok={String(c.ok)}>
      <div class={`icon ${c.ok ? 'ok' : 'bad'}`} aria-hidden="true">{c.ok ? '✓' : '!'}</div>
      <div>
        <strong>{c.ok ? 'The hash chain verifies' : `The hash chain does not verify: ${c.problem}`}</strong>
        <div class="muted" style={{ fontSize: '13px' }}>
          {c.ok
            ? <>All {count(c.checked)} records re-hashed and linked{covered ? <>, this one (#{props.seq}) included</> : null}. Checked {dateTime(c.checkedAt)}{c.tookMs ? ` in ${count(c.tookMs)} ms` : ''}.</>
            : <>First bad record #{c.firstBadSeq}: {c.detail}</>}
        </div>
      </div>
    </div>
  );
}

export function CallPage({ callId }: { ctx: PageContext; callId: string }) {
  const call = useLoad(() => get<{ record: Record_; history: Record_[] }>(`/v1/calls/${encodeURIComponent(callId)}`), [callId]);
  const explain = useLoad(() => get<{ explanation: string }>(`/v1/calls/${encodeURIComponent(callId)}/explain`), [callId]);
  const approvalId = call.data?.record.approvalId ?? call.data?.history.find((h) => h.approvalId)?.approvalId;
  const approval = useLoad(() => (approvalId ? get<Approval>(`/v1/approvals/${encodeURIComponent(approvalId)}`) : Promise.resolve(undefined)), [approvalId]);
  const r = call.data?.record;
  return (
    <>
      <PageHead title="Call" subtitle={<span class="mono">{callId}</span>}>
        <a href="#/audit">← Back to the audit log</a>
      </PageHead>
      <ErrorNotice error={call.error} />
      {r && (
        <div class="stack">
          <Card title={<span class="row" style={{ gap: '10px' }}>Why <Badge kind="o" value={r.outcome} /></span>}>
            <p class="explain" data-testid="explanation">{explain.data?.explanation ?? (explain.error ? '' : 'Loading the explanation…')}</p>
            <ErrorNotice error={explain.error} />
          </Card>
          <div class="grid grid-2">
            <Card title="Facts">
              <dl class="kv">
                <dt>When</dt><dd>{dateTime(r.createdAt)}</dd>
                <dt>Service and tool</dt><dd>{r.service} <span class="mono">{r.tool}</span></dd>
                <dt>Task / agent</dt><dd>{r.taskId ?? '—'} / {r.agentId ?? '—'}</dd>
                <dt>Declared reason</dt><dd>{r.reason ? <span class="quote">{r.reason}</span> : '—'}</dd>
                <dt>Grant / user</dt><dd class="mono">{r.grantId ?? '—'} / {r.userId ?? '—'}</dd>
                <dt>Price ({r.pricing})</dt><dd>{money(r.priceMicros)} · held {money(r.holdMicros)}</dd>
                <dt>Charged</dt><dd><strong>{money(r.capturedMicros)}</strong> · fee {money(r.feeMicros)} · rail {r.rail}</dd>
                <dt>Result</dt><dd>{r.status}{r.httpStatus ? ` (HTTP ${r.httpStatus})` : ''}{r.latencyMs !== null ? ` · ${count(r.latencyMs)} ms` : ''}{r.summary ? ` · ${r.summary}` : ''}</dd>
                {r.errorCode && <><dt>Refusal</dt><dd class="mono">{r.errorCode}{r.errorData?.limit ? ` · ${String(r.errorData.limit)}` : ''}</dd></>}
                <dt>Decision</dt><dd>{r.decision}{r.ruleId ? <> · rule <span class="mono">{r.ruleId}</span></> : null}</dd>
              </dl>
            </Card>
            <div class="stack">
              <Card title="Approval">
                {!approvalId ? <p class="muted" style={{ margin: 0 }}>No approval was needed.</p> : approval.data ? (
                  <dl class="kv">
                    <dt>State</dt><dd><Badge kind="s" value={approval.data.state} /> {approval.data.state === 'approved' ? `(${approval.data.scope === 'task' ? 'for the task' : 'once'})` : ''}</dd>
                    <dt>Asked because</dt><dd>{approval.data.explanation}</dd>
                    <dt>Decided by</dt><dd>{approval.data.decidedBy ?? '—'} {approval.data.decidedAt ? `at ${dateTime(approval.data.decidedAt)}` : ''}</dd>
                    {approval.data.note && <><dt>Note</dt><dd>{approval.data.note}</dd></>}
                  </dl>
                ) : <ErrorNotice error={approval.error} />}
              </Card>
              <Card title="Hash chain">
                <ChainStatus seq={r.seq} />
                <dl class="kv" style={{ marginTop: '12px' }}>
                  <dt>Record</dt><dd class="mono">#{r.seq} · {r.id}</dd>
                  <dt>Hash</dt><dd class="mono">{r.hash}</dd>
                  <dt>Previous hash</dt><dd class="mono">{r.prevHash}</dd>
                </dl>
              </Card>
            </div>
          </div>
          <Card title="Policy trace">
            {r.policyTrace.length === 0 ? <p class="muted" style={{ margin: 0 }}>No policy rules were evaluated.</p> : (
              <ol class="trace" data-testid="policy-trace">
                {traceRows(r.policyTrace).map((t, i) => (
                  <li key={i}><div><strong class="mono">{t.rule}</strong><div class="muted" style={{ fontSize: '12.5px' }}>{t.detail}</div></div><span class="badge s-expired">{t.effect || '—'}</span></li>
                ))}
              </ol>
            )}
          </Card>
          <Card title="Ledger movements" flush>
            {r.transfers.length === 0 ? <p class="muted" style={{ margin: 0, padding: '16px 18px' }}>No money moved for this record.</p> : (
              <table data-testid="ledger-movements">
                <thead><tr><th>Movement</th><th>From (debit)</th><th>To (credit)</th><th class="num">Amount</th></tr></thead>
                <tbody>
                  {r.transfers.map((t) => (
                    <tr key={t.id}><td>{movementLabel(t.kind)}</td><td class="mono">{t.debit || <span class="faint">the hold's accounts</span>}</td><td class="mono">{t.credit || <span class="faint">the hold's accounts</span>}</td><td class="num">{isCount(t) ? `${t.amount} call${t.amount === '1' ? '' : 's'}` : money(t.amount)}</td></tr>
                  ))}
                </tbody>
              </table>
            )}
          </Card>
          {call.data && call.data.history.length > 1 && (
            <Card title="Every record of this call" flush>
              <table>
                <thead><tr><th>#</th><th>Time</th><th>Outcome</th><th>Decision</th><th class="num">Charged</th></tr></thead>
                <tbody>
                  {call.data.history.map((h) => (
                    <tr key={h.seq}><td class="mono">{h.seq}</td><td>{dateTime(h.createdAt)}</td><td><Badge kind="o" value={h.outcome} />{h.errorCode && <span class="muted mono"> {h.errorCode}</span>}</td><td>{h.decision}</td><td class="num">{money(h.capturedMicros)}</td></tr>
                  ))}
                </tbody>
              </table>
            </Card>
          )}
        </div>
      )}
    </>
  );
}
