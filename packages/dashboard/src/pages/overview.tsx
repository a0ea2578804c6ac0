/**
 * @module pages/overview
 * Spend today and this month against the limits that apply, spend by day, task, agent and service
 * (aggregated in the database), and the live feed of calls.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../api.ts';
import { DayBars, HBars, Meter } from '../components/charts.tsx';
import { Feed, type FeedItem } from '../components/feed.tsx';
import { Card, ErrorNotice, PageHead, Stat, useLoad } from '../components/ui.tsx';
import type { PageContext } from '../context.ts';
import { cents, count, plural, units } from '../format.ts';
import { navigate } from '../router.ts';

interface SpendRow { key: string | null; label?: string; calls: number; spentMicros: string }
interface LimitView { kind: 'org_monthly' | 'user_monthly' | 'agent_daily' | 'grant_total'; ownerId: string; label: string; capMicros: string; usedMicros: string; heldMicros: string }
interface OverviewData {
  currency: string;
  today: { spentMicros: string; calls: number };
  month: { spentMicros: string; calls: number; captured: number; refused: number; voided: number; expired: number };
  byTask: SpendRow[]; byAgent: SpendRow[]; byService: SpendRow[];
  daily: { day: string; spentMicros: string; calls: number }[];
  limits: LimitView[];
  queryMs: number;
}

const FEED_MAX = 40;

function rows(list: SpendRow[], none: string) {
  return list.map((r) => ({ key: r.key ?? none, label: r.label, micros: r.spentMicros, calls: r.calls }));
}

export function Overview({ ctx }: { ctx: PageContext }) {
  const orgId = ctx.org?.id;
  const { data, error, reload } = useLoad(() => get<OverviewData>('/v1/dashboard/overview', { orgId }), [orgId]);
  const [feed, setFeed] = useState<FeedItem[]>([]);
  const refresh = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    let live = true;
    get<{ records: FeedItem[] }>('/v1/calls', { orgId, limit: 25 }).then((r) => live && setFeed(r.records), () => undefined);
    const off = ctx.onCall((call) => {
      setFeed((items) => [{ ...call, fresh: true }, ...items.filter((i) => !(i.callId === call.callId && i.outcome === call.outcome))].slice(0, FEED_MAX));
      // New spend: refresh the figures, at most every two seconds.
      clearTimeout(refresh.current);
      refresh.current = setTimeout(reload, 2000);
    });
    return () => {
      live = false;
      off();
      clearTimeout(refresh.current);
    };
  }, [orgId]);

  const currency = data?.currency ?? ctx.org?.currency ?? 'USD';
  const monthly = data?.limits.filter((l) => l.kind === 'org_monthly' || l.kind === 'user_monthly') ?? [];
  const daily = data?.limits.filter((l) => l.kind === 'agent_daily') ?? [];
  const grantCaps = data?.limits.filter((l) => l.kind === 'grant_total') ?? [];
  const audit = (key: string, value: string) => navigate(`/audit?${key}=${encodeURIComponent(value)}`);
  return (
    <>
      <PageHead title="Overview" subtitle={<>What your agents are spending{ctx.org ? <> in <strong>{ctx.org.name}</strong></> : null}. Days and months are UTC.</>}>
        <span class={`live-dot ${ctx.liveStatus}`}>{ctx.liveStatus === 'live' ? 'Live' : ctx.liveStatus === 'connecting' ? 'Connecting…' : 'Reconnecting…'}</span>
      </PageHead>
      <ErrorNotice error={error} />
      <div class="stack">
        <div class="grid grid-4">
          <Stat label="Spent today" value={cents(data?.today.spentMicros ?? '0')} unit={currency} sub={`${plural(data?.today.calls ?? 0, 'call')} today`} />
          <Stat label="Spent this month" value={cents(data?.month.spentMicros ?? '0')} unit={currency}
            sub={ctx.org?.monthlyLimitMicros ? `of ${cents(ctx.org.monthlyLimitMicros)} org limit` : 'no org monthly limit set'} />
          <Stat label="Paid calls this month" value={count(data?.month.captured ?? 0)} sub={`${plural(data?.month.calls ?? 0, 'call')} in all`} />
          <Stat label="Refused or not charged" value={count((data?.month.refused ?? 0) + (data?.month.voided ?? 0) + (data?.month.expired ?? 0))}
            sub={`${count(data?.month.refused ?? 0)} refused · ${count(data?.month.voided ?? 0)} upstream failures`} />
        </div>
        <div class="grid grid-main">
          <Card title="Spend per day" actions={<span class="muted" style={{ fontSize: '12px' }}>last 30 days · {currency}</span>}>
            <DayBars title="Spend per day over the last 30 days" days={(data?.daily ?? []).map((d) => ({ day: d.day, value: units(d.spentMicros), label: `${cents(d.spentMicros)} ${currency}, ${plural(d.calls, 'call')}` }))} />
          </Card>
          <Card title="Limits that apply">
            {monthly.length + daily.length + grantCaps.length === 0 && <p class="muted">No limits are set for this org.</p>}
            {[{ title: 'This month', items: monthly }, { title: 'Agents today', items: daily }, { title: 'Grant caps', items: grantCaps }].filter((g) => g.items.length > 0).map((g, i) => (
              <div key={g.title}>
                <h3 style={{ margin: i === 0 ? '0 0 10px' : '18px 0 10px' }}>{g.title}</h3>
                {g.items.map((l) => <Meter key={l.kind + l.ownerId} label={l.label} capMicros={l.capMicros} usedMicros={l.usedMicros} heldMicros={l.heldMicros} />)}
              </div>
            ))}
          </Card>
        </div>
        <div class="grid grid-3">
          <Card title="By task"><HBars rows={rows(data?.byTask ?? [], '(no task)')} empty="No spend this month." onPick={(k) => k !== '(no task)' && audit('taskId', k)} /></Card>
          <Card title="By agent"><HBars rows={rows(data?.byAgent ?? [], '(no agent)')} empty="No spend this month." onPick={(k) => k !== '(no agent)' && audit('agentId', k)} /></Card>
          <Card title="By service"><HBars rows={rows(data?.byService ?? [], '(none)')} empty="No spend this month." onPick={(k) => audit('service', k)} /></Card>
        </div>
        <Card title="Live calls" flush actions={<a href="#/audit">Open the audit log →</a>}>
          <Feed items={feed} empty="Calls appear here the moment they finish." />
        </Card>
        {data && <p class="footer-note">Aggregated in the database in {data.queryMs} ms.</p>}
      </div>
    </>
  );
}
