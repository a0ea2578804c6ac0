/**
 * @module pages/seller
 * A seller's view: services and prices, calls and revenue per service, error rate and median
 * latency per day, earnings and payouts.
 */
import { useState } from 'preact/hooks';
import { get } from '../api.ts';
import { CHART_WIDTH, DayBars, DayLine } from '../components/charts.tsx';
import { Badge, Card, Empty, ErrorNotice, PageHead, Stat, useLoad } from '../components/ui.tsx';
import type { PageContext } from '../context.ts';
import { cents, count, dateTime, money, percent, units } from '../format.ts';

interface Price { method: string; path: string; type: 'fixed' | 'per_unit'; price?: string; unitPrice?: string; maxUnits?: number }
interface Service { id: string; slug: string; name: string; kind: string; sellerId: string; category: string; prices: Price[]; disabled?: boolean }
interface ServiceStats { service: string; calls: number; errors: number; errorRate: number; revenueMicros: string; feeMicros: string; p50LatencyMs: number | null }
interface SellerDay { day: string; service: string; calls: number; errors: number; revenueMicros: string; feeMicros: string; p50LatencyMs: number | null }
interface Earnings { currency: string | null; earnedMicros: string; paidOutMicros: string; balanceMicros: string }
interface Payout { id: string; amountMicros: string; currency: string; status: 'pending' | 'paid' | 'failed'; reference: string | null; createdAt: string }

const DAYS = 30;

function lastDays(n: number): string[] {
  const today = new Date();
  const base = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  return Array.from({ length: n }, (_, i) => new Date(base - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

function priceText(p: Price): string {
  const route = `${p.method === '*' ? 'any' : p.method} ${p.path}`;
  return p.type === 'fixed' ? `${route}: ${p.price} per call` : `${route}: ${p.unitPrice} per unit (≤ ${p.maxUnits})`;
}

export function Seller({ ctx }: { ctx: PageContext }) {
  const all = useLoad(() => get<{ items: Service[] }>('/v1/services'), []);
  const sellers = [...new Set((all.data?.items ?? []).map((s) => s.sellerId))];
  const [picked, setPicked] = useState('');
  const sellerId = ctx.session.sellerId ?? (picked || sellers[0] || '');
  const q = { sellerId: sellerId || undefined };
  const stats = useLoad(() => get<{ items: ServiceStats[] }>('/v1/analytics/services', q), [sellerId]);
  const series = useLoad(() => get<{ days: SellerDay[] }>('/v1/dashboard/seller', { ...q, days: DAYS }), [sellerId]);
  const earnings = useLoad(() => (sellerId ? get<Earnings>(`/v1/sellers/${encodeURIComponent(sellerId)}/earnings`) : Promise.resolve(undefined)), [sellerId]);
  const payouts = useLoad(() => get<{ items: Payout[] }>('/v1/provider/payouts', q), [sellerId]);
  const services = (all.data?.items ?? []).filter((s) => s.sellerId === sellerId);
  const byService = new Map((stats.data?.items ?? []).map((s) => [s.service, s]));
  const busiest = [...(stats.data?.items ?? [])].sort((a, b) => b.calls - a.calls)[0]?.service ?? services[0]?.slug ?? '';
  const [chosen, setChosen] = useState('');
  const focus = chosen || busiest;
  const days = lastDays(DAYS);
  const rows = series.data?.days ?? [];
  const revenue = days.map((day) => {
    const micros = rows.filter((r) => r.day === day).reduce((sum, r) => sum + BigInt(r.revenueMicros), 0n);
    return { day, value: units(micros.toString()), label: cents(micros) };
  });
  const focusRows = new Map(rows.filter((r) => r.service === focus).map((r) => [r.day, r]));
  const errorRate = days.map((day) => {
    const r = focusRows.get(day);
    return { day, value: r && r.calls > 0 ? r.errors / r.calls : null };
  });
  const latency = days.map((day) => ({ day, value: focusRows.get(day)?.p50LatencyMs ?? null }));
  const currency = earnings.data?.currency ?? ctx.org?.currency ?? 'USD';
  const totalCalls = (stats.data?.items ?? []).reduce((n, s) => n + s.calls, 0);
  const totalErrors = (stats.data?.items ?? []).reduce((n, s) => n + s.errors, 0);

  return (
    <>
      <PageHead title="Seller" subtitle="Your paid services: usage, revenue, reliability and payouts over the last 30 days.">
        {ctx.session.role === 'admin' && sellers.length > 0 && (
          <div class="field" style={{ minWidth: '200px' }}>
            <label for="seller-picker" class="sr-only">Seller</label>
            <select id="seller-picker" value={sellerId} onChange={(e) => setPicked((e.target as HTMLSelectElement).value)}>
              {sellers.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </div>
        )}
      </PageHead>
      <ErrorNotice error={all.error ?? stats.error ?? series.error} />
      <div class="stack">
        <div class="grid grid-4">
          <Stat label="Earned (after fees)" value={cents(earnings.data?.earnedMicros ?? '0')} unit={currency} />
          <Stat label="Available to pay out" value={cents(earnings.data?.balanceMicros ?? '0')} unit={currency} sub={`${cents(earnings.data?.paidOutMicros ?? '0')} paid out so far`} />
          <Stat label="Calls (30 days)" value={count(totalCalls)} />
          <Stat label="Error rate (30 days)" value={totalCalls ? percent(totalErrors / totalCalls) : '—'} sub={`${count(totalErrors)} failed or timed out, not charged`} />
        </div>
        <Card title="Revenue per day" actions={<span class="muted" style={{ fontSize: '12px' }}>gross, all services · {currency}</span>}>
          <DayBars title="Revenue per day over the last 30 days" days={revenue} width={CHART_WIDTH.full} height={220} />
        </Card>
        <div class="grid grid-2">
          <Card title="Error rate" actions={
            <>
              <label for="focus-service" class="sr-only">Service</label>
              <select id="focus-service" value={focus} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)} style={{ width: 'auto', minHeight: '30px' }}>
                {services.map((s) => <option key={s.slug} value={s.slug}>{s.slug}</option>)}
              </select>
            </>
          }>
            <DayLine title={`Error rate per day for ${focus}`} days={errorRate} format={(v) => percent(v)} tone="bad" />
          </Card>
          <Card title={`Median latency · ${focus}`}>
            <DayLine title={`Median (p50) latency per day for ${focus}`} days={latency} format={(v) => `${Math.round(v)} ms`} />
          </Card>
        </div>
        <Card title="Services and prices" flush>
          {services.length === 0 ? <Empty title="No services">Register one with POST /v1/services.</Empty> : (
            <table>
              <thead><tr><th>Service</th><th>Prices</th><th class="num">Calls</th><th class="num">Revenue</th><th class="num">Errors</th><th class="num">p50</th></tr></thead>
              <tbody>
                {services.map((s) => {
                  const st = byService.get(s.slug);
                  return (
                    <tr key={s.id}>
                      <td><strong>{s.slug}</strong> {s.disabled && <Badge kind="s" value="expired" label="disabled" />}<div class="muted" style={{ fontSize: '12.5px' }}>{s.name} · {s.kind} · {s.category}</div></td>
                      <td class="muted" style={{ fontSize: '12.5px' }}>{s.prices.map((p, i) => <div key={i} class="mono">{priceText(p)}</div>)}</td>
                      <td class="num">{count(st?.calls ?? 0)}</td>
                      <td class="num">{cents(st?.revenueMicros ?? '0')}</td>
                      <td class="num">{st ? percent(st.errorRate) : '—'}</td>
                      <td class="num">{st?.p50LatencyMs != null ? `${count(st.p50LatencyMs)} ms` : '—'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </Card>
        <Card title="Payouts" flush>
          {(payouts.data?.items.length ?? 0) === 0 ? <Empty title="No payouts yet">Request one with <code>tollgate payouts request</code> or POST /v1/provider/payouts.</Empty> : (
            <table>
              <thead><tr><th>Requested</th><th>Status</th><th>Reference</th><th class="num">Amount</th></tr></thead>
              <tbody>
                {payouts.data!.items.map((p) => (
                  <tr key={p.id}><td>{dateTime(p.createdAt)}</td><td><Badge kind="s" value={p.status === 'paid' ? 'ok' : p.status === 'failed' ? 'bad' : 'pending'} label={p.status} /></td><td class="muted mono">{p.reference ?? '—'}</td><td class="num">{money(p.amountMicros)} {p.currency}</td></tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
    </>
  );
}
