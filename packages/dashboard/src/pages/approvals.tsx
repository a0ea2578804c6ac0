/**
 * @module pages/approvals
 * Pending approvals, live: why each was asked (trigger, rule, the sentence for the person), the
 * price, service and tool, and the agent's declared reason; approve once, approve for the task, or
 * deny. Recently decided ones are listed below.
 */
import { useState } from 'preact/hooks';
import { get, post } from '../api.ts';
import { Badge, Card, Empty, ErrorNotice, PageHead, useLoad } from '../components/ui.tsx';
import type { PageContext } from '../context.ts';
import { dateTime, money, relative } from '../format.ts';
import type { PendingApproval } from '../live.ts';

interface ApprovalView extends PendingApproval {
  state: 'pending' | 'approved' | 'denied' | 'expired';
  decidedBy: string | null;
  decidedAt: string | null;
}

function triggerText(trigger: string): string {
  return trigger.replace(/^trigger:/, '').replaceAll('_', ' ');
}

function PendingCard(props: { approval: PendingApproval; currency: string; onDecided: () => void }) {
  const a = props.approval;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const decide = async (decision: 'approve' | 'deny', scope?: 'call' | 'task') => {
    setBusy(true);
    setError(undefined);
    try {
      await post(`/v1/approvals/${encodeURIComponent(a.id)}/${decision}`, scope ? { scope } : {});
      props.onDecided();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <article class="approval" data-approval-id={a.id} aria-labelledby={`${a.id}-title`}>
      <div>
        <div class="row" style={{ gap: '8px' }}>
          <h2 id={`${a.id}-title`}>{a.service} <span class="muted mono" style={{ fontWeight: 500 }}>{a.tool}</span></h2>
          <Badge kind="s" value="pending" label={`expires ${relative(a.expiresAt)}`} />
        </div>
        <p class="why">{a.explanation}</p>
        {a.reason && <p class="quote" style={{ margin: '0 0 10px' }}>“{a.reason}”</p>}
        <dl>
          <dt>Trigger</dt><dt>Rule</dt><dt>Task</dt><dt>Agent</dt>
          <dd>{triggerText(a.trigger)}</dd><dd>{a.ruleId ?? '—'}</dd><dd>{a.taskId ?? '—'}</dd><dd>{a.agentId ?? '—'}</dd>
        </dl>
      </div>
      <div class="price">{money(a.priceMicros)} <span class="muted" style={{ fontSize: '13px' }}>{props.currency}</span></div>
      <div class="actions">
        {a.scope === 'raise_cap' ? (
          // The grant's cap is what blocks: approving raises it by what was asked.
          <button type="button" class="good" disabled={busy} onClick={() => decide('approve')}>Raise the grant's cap by {money(a.raiseMicros ?? a.priceMicros)}</button>
        ) : (
          <>
            <button type="button" class="good" disabled={busy} onClick={() => decide('approve', 'call')}>Approve once</button>
            <button type="button" disabled={busy || !a.taskId} onClick={() => decide('approve', 'task')} title={a.taskId ? `Every ${a.service} call of task ${a.taskId}` : 'This call has no task'}>Approve for this task</button>
          </>
        )}
        <button type="button" class="ghost-danger" disabled={busy} onClick={() => decide('deny')}>Deny</button>
      </div>
      {error ? <div style={{ gridColumn: '1 / -1' }}><ErrorNotice error={error} /></div> : null}
    </article>
  );
}

export function Approvals({ ctx }: { ctx: PageContext }) {
  const orgId = ctx.org?.id;
  const recent = useLoad(() => get<{ items: ApprovalView[] }>('/v1/approvals', { orgId, limit: 20 }), [orgId, ctx.pending.length]);
  const currency = ctx.org?.currency ?? 'USD';
  const decided = (recent.data?.items ?? []).filter((a) => a.state !== 'pending').slice(0, 10);
  return (
    <>
      <PageHead title="Approvals" subtitle="Calls waiting for a person. The agent retries on its own once you decide." >
        <span class={`live-dot ${ctx.liveStatus}`}>{ctx.pending.length} pending</span>
      </PageHead>
      <div class="stack">
        <Card title="Waiting for you" flush>
          {ctx.pending.length === 0
            ? <Empty title="Nothing to decide">New requests appear here the moment an agent asks.</Empty>
            : ctx.pending.map((a) => <PendingCard key={a.id} approval={a} currency={currency} onDecided={recent.reload} />)}
        </Card>
        <Card title="Recently decided" flush>
          {decided.length === 0 ? <Empty title="No decisions yet" /> : (
            <table>
              <thead><tr><th>Decided</th><th>Service</th><th>Task</th><th class="num">Price</th><th>Decision</th><th>By</th></tr></thead>
              <tbody>
                {decided.map((a) => (
                  <tr key={a.id}>
                    <td class="nowrap">{dateTime(a.decidedAt ?? a.expiresAt)}</td>
                    <td>{a.service} <span class="muted mono">{a.tool}</span></td>
                    <td>{a.taskId ?? '—'}</td>
                    <td class="num">{money(a.priceMicros)}</td>
                    <td><Badge kind="s" value={a.state} label={a.state === 'approved' ? `approved · ${a.scope === 'task' ? 'for task' : 'once'}` : a.state} /></td>
                    <td class="muted">{a.decidedBy ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
    </>
  );
}
