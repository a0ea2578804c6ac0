/**
 * @module pages/audit
 * The audit explorer: filter by task, agent, service, outcome and time, page through the records,
 * open a call, and export what the filter selects as CSV or JSON Lines.
 */
import { useState } from 'preact/hooks';
import { ApiError, download, get, type Query } from '../api.ts';
import { Badge, Card, Empty, ErrorNotice, Field, PageHead, useLoad } from '../components/ui.tsx';
import type { PageContext } from '../context.ts';
import { count, dateTime, money, shortId } from '../format.ts';
import { navigate } from '../router.ts';

interface CallRecord {
  callId: string; outcome: 'captured' | 'voided' | 'refused' | 'expired'; service: string; tool: string; taskId: string | null; agentId: string | null;
  reason: string | null; priceMicros: string; capturedMicros: string; status: string; errorCode: string | null; latencyMs: number | null; createdAt: string; seq: string;
}

const FILTERS = ['taskId', 'agentId', 'service', 'outcome', 'from', 'to'] as const;
type Filter = Record<(typeof FILTERS)[number], string>;

function filterOf(query: URLSearchParams): Filter {
  return Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? ''])) as Filter;
}

function apiQuery(f: Filter, orgId: string | undefined): Query {
  return {
    orgId, taskId: f.taskId, agentId: f.agentId, service: f.service, outcome: f.outcome,
    from: f.from ? new Date(f.from).toISOString() : undefined, to: f.to ? new Date(f.to).toISOString() : undefined,
  };
}

export function Audit({ ctx, query }: { ctx: PageContext; query: URLSearchParams }) {
  const applied = filterOf(query);
  const [draft, setDraft] = useState<Filter>(applied);
  const [pages, setPages] = useState<CallRecord[][]>([]);
  const [next, setNext] = useState<string | undefined>();
  const key = JSON.stringify(applied);
  const first = useLoad(async () => {
    const page = await get<{ records: CallRecord[]; next?: string }>('/v1/calls', { ...apiQuery(applied, ctx.org?.id), limit: 50 });
    setPages([]);
    setNext(page.next);
    return page.records;
  }, [key, ctx.org?.id]);
  const [exportError, setExportError] = useState<unknown>();
  const services = useLoad(() => get<{ items: { slug: string }[] }>('/v1/services'), []);
  const records = [...(first.data ?? []), ...pages.flat()];

  const apply = (e: Event) => {
    e.preventDefault();
    const params = new URLSearchParams(Object.entries(draft).filter(([, v]) => v));
    navigate(`/audit${params.toString() ? `?${params}` : ''}`);
  };
  const more = async () => {
    const page = await get<{ records: CallRecord[]; next?: string }>('/v1/calls', { ...apiQuery(applied, ctx.org?.id), limit: 50, before: next });
    setPages((p) => [...p, page.records]);
    setNext(page.next);
  };
  const exportAs = async (format: 'csv' | 'jsonl') => {
    setExportError(undefined);
    try {
      await download('/v1/calls/export', { ...apiQuery(applied, ctx.org?.id), format }, `tollgate-calls.${format}`);
    } catch (e) {
      setExportError(e);
    }
  };
  // A filter the server refused is marked at its field, with the server's message.
  const fieldError = first.error instanceof ApiError && first.error.field && (FILTERS as readonly string[]).includes(first.error.field) ? first.error : undefined;
  const input = (name: keyof Filter, label: string, type: 'text' | 'datetime-local' = 'text') => (
    <Field label={label} error={fieldError?.field === name ? fieldError.message.replace(/^[\w.]+: /, '') : undefined}>
      {({ id, describedBy, invalid }) => (
        <input id={id} name={name} type={type as 'text'} value={draft[name]} aria-invalid={invalid} aria-describedby={describedBy} onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })} />
      )}
    </Field>
  );

  return (
    <>
      <PageHead title="Audit log" subtitle="Every paid, refused and voided call, hash-chained. Open one to see why it was paid.">
        <button type="button" onClick={() => exportAs('csv')}>Export CSV</button>
        <button type="button" onClick={() => exportAs('jsonl')}>Export JSON Lines</button>
      </PageHead>
      <div class="stack">
        <ErrorNotice error={exportError} />
        <Card>
          <form onSubmit={apply} class="form-grid filters" aria-label="Filter calls">
            {input('taskId', 'Task')}
            {input('agentId', 'Agent')}
            <div class="field">
              <label for="f-service">Service</label>
              <select id="f-service" value={draft.service} onChange={(e) => setDraft({ ...draft, service: (e.target as HTMLSelectElement).value })}>
                <option value="">Any</option>
                {(services.data?.items ?? []).map((s) => <option key={s.slug} value={s.slug}>{s.slug}</option>)}
              </select>
            </div>
            <div class="field">
              <label for="f-outcome">Outcome</label>
              <select id="f-outcome" value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: (e.target as HTMLSelectElement).value })}>
                <option value="">Any</option><option value="captured">Captured (paid)</option><option value="refused">Refused</option><option value="voided">Voided</option><option value="expired">Expired</option>
              </select>
            </div>
            {input('from', 'From', 'datetime-local')}
            {input('to', 'To', 'datetime-local')}
            <div class="row full">
              <button type="submit" class="primary">Apply filters</button>
              <button type="button" onClick={() => { setDraft(filterOf(new URLSearchParams())); navigate('/audit'); }}>Clear</button>
            </div>
          </form>
        </Card>
        <Card title={`Calls${first.loading ? '' : ` (${count(records.length)}${next ? '+' : ''})`}`} flush>
          {!fieldError && <ErrorNotice error={first.error} />}
          {records.length === 0 && !first.loading ? <Empty title="No calls match">Change the filters, or make a call.</Empty> : (
            <table data-testid="audit-table">
              <thead><tr><th>Time</th><th>Outcome</th><th>Service</th><th>Task</th><th>Agent</th><th class="num">Price</th><th class="num">Charged</th><th class="num">Latency</th></tr></thead>
              <tbody>
                {records.map((r) => (
                  <tr key={r.seq} class="clickable" data-call-id={r.callId} onClick={() => navigate(`/calls/${r.callId}`)}>
                    <td class="nowrap"><a href={`#/calls/${r.callId}`}>{dateTime(r.createdAt)}</a></td>
                    <td><Badge kind="o" value={r.outcome} />{r.errorCode && <span class="muted mono"> {r.errorCode}</span>}</td>
                    <td class="nowrap">{r.service} <span class="muted mono">{r.tool}</span></td>
                    <td class="nowrap">{r.taskId ?? '—'}</td>
                    <td class="muted mono" title={r.agentId ?? undefined}>{shortId(r.agentId)}</td>
                    <td class="num">{money(r.priceMicros)}</td>
                    <td class="num">{money(r.capturedMicros)}</td>
                    <td class="num muted">{r.latencyMs === null ? '—' : `${count(r.latencyMs)} ms`}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
        {next && <div><button type="button" onClick={more}>Load older calls</button></div>}
      </div>
    </>
  );
}
