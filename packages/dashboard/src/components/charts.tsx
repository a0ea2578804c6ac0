/**
 * @module components/charts
 * Charts as inline SVG (no chart library): daily bars, a line over days, limit meters and
 * horizontal breakdown bars. Amounts are formatted from micros; numbers only shape the geometry.
 */
import { cents, plural, units } from '../format.ts';

/** Chart widths in SVG units; pick the one closest to the card's width so text keeps its size. */
export const CHART_WIDTH = { half: 480, main: 640, full: 1100 } as const;

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  const n = value / exp;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * exp;
}

function shortDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

/** Three horizontal grid lines (0, half, max) with their values on the left. */
function YGrid(props: { max: number; left: number; right: number; y: (v: number) => number; format: (v: number) => string }) {
  return (
    <>
      {[0, 0.5, 1].map((f) => (
        <g key={f}>
          <line class="grid-line" x1={props.left} x2={props.right} y1={props.y(props.max * f)} y2={props.y(props.max * f)} />
          <text x={props.left - 6} y={props.y(props.max * f) + 4} text-anchor="end">{props.format(props.max * f)}</text>
        </g>
      ))}
    </>
  );
}

/** Bars per day; `values` are display numbers, `labels` what a screen reader and the tooltip say. */
export function DayBars(props: { days: { day: string; value: number; label: string }[]; height?: number; title: string; format?: (v: number) => string; width?: number }) {
  const W = props.width ?? CHART_WIDTH.main;
  const h = props.height ?? 180;
  const pad = { l: 52, r: 8, t: 10, b: 24 };
  const max = niceMax(Math.max(0, ...props.days.map((d) => d.value)));
  const n = Math.max(1, props.days.length);
  const step = (W - pad.l - pad.r) / n;
  const bw = Math.max(2, step * 0.68);
  const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
  // Small scales (cents) keep their decimals on the axis; large ones drop them.
  const fmt = props.format ?? ((v: number) => v.toLocaleString(undefined, { maximumFractionDigits: max < 1 ? 4 : max < 100 ? 2 : 0 }));
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${h}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      <YGrid max={max} left={pad.l} right={W - pad.r} y={y} format={fmt} />
      {props.days.map((d, i) => (
        <rect key={d.day} class={`bar${i === n - 1 ? ' today' : ''}`} x={pad.l + i * step + (step - bw) / 2} y={y(d.value)} width={bw} height={Math.max(0, h - pad.b - y(d.value))} rx={2}>
          <title>{`${shortDay(d.day)}: ${d.label}`}</title>
        </rect>
      ))}
      {props.days.map((d, i) => (i % Math.ceil(n / 6) === 0 || i === n - 1 ? <text key={`t${d.day}`} x={pad.l + i * step + step / 2} y={h - 6} text-anchor={i === n - 1 ? 'end' : 'middle'}>{shortDay(d.day)}</text> : null))}
      <line class="axis" x1={pad.l} x2={W - pad.r} y1={h - pad.b} y2={h - pad.b} />
    </svg>
  );
}

/** One line per day (latency, error rate); missing days break the line. */
export function DayLine(props: { days: { day: string; value: number | null }[]; height?: number; title: string; format: (v: number) => string; tone?: 'bad'; width?: number }) {
  const W = props.width ?? CHART_WIDTH.half;
  const h = props.height ?? 170;
  const pad = { l: 56, r: 8, t: 10, b: 24 };
  const max = niceMax(Math.max(0, ...props.days.map((d) => d.value ?? 0)));
  const n = Math.max(2, props.days.length);
  const x = (i: number) => pad.l + ((W - pad.l - pad.r) * i) / (n - 1);
  const y = (v: number) => pad.t + (h - pad.t - pad.b) * (1 - v / max);
  let path = '';
  props.days.forEach((d, i) => {
    if (d.value === null) return;
    path += `${path && props.days[i - 1]?.value !== null ? 'L' : 'M'}${x(i).toFixed(1)},${y(d.value).toFixed(1)} `;
  });
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${h}`} role="img" aria-label={props.title}>
      <title>{props.title}</title>
      <YGrid max={max} left={pad.l} right={W - pad.r} y={y} format={props.format} />
      <path class={`line${props.tone ? ` ${props.tone}` : ''}`} d={path} />
      {props.days.map((d, i) => (d.value === null ? null : (
        <circle key={d.day} cx={x(i)} cy={y(d.value)} r={2.5} fill={props.tone === 'bad' ? 'var(--bad)' : 'var(--brand)'}>
          <title>{`${shortDay(d.day)}: ${props.format(d.value)}`}</title>
        </circle>
      )))}
      {props.days.map((d, i) => (i % Math.ceil(n / 6) === 0 || i === n - 1 ? <text key={`t${d.day}`} x={x(i)} y={h - 6} text-anchor={i === n - 1 ? 'end' : i === 0 ? 'start' : 'middle'}>{shortDay(d.day)}</text> : null))}
      <line class="axis" x1={pad.l} x2={W - pad.r} y1={h - pad.b} y2={h - pad.b} />
    </svg>
  );
}

/** Used and held against a cap, coloured as it fills. */
export function Meter(props: { label: string; capMicros: string; usedMicros: string; heldMicros?: string; currency?: string; remainingLabel?: boolean }) {
  const cap = BigInt(props.capMicros);
  const used = BigInt(props.usedMicros);
  const held = BigInt(props.heldMicros ?? '0');
  const pct = (v: bigint) => (cap === 0n ? (v > 0n ? 100 : 0) : Math.min(100, Number((v * 10_000n) / cap) / 100));
  const usedPct = pct(used);
  const heldPct = Math.min(100 - usedPct, pct(held));
  const level = usedPct + heldPct >= 100 ? ' full' : usedPct + heldPct >= 80 ? ' high' : '';
  const remaining = cap - used - held;
  return (
    <div class="meter">
      <div class="top">
        <span>{props.label}</span>
        <span>
          {props.remainingLabel ? `${cents(remaining > 0n ? remaining : 0n)} left of ${cents(cap)}` : `${cents(used)} of ${cents(cap)}`}
        </span>
      </div>
      <div class={`track${level}`} role="meter" aria-label={props.label} aria-valuemin={0} aria-valuemax={units(props.capMicros)} aria-valuenow={units(props.usedMicros)} aria-valuetext={`${cents(used)} used, ${cents(held)} held, of ${cents(cap)}`}>
        <div class="used" style={{ width: `${usedPct}%` }} />
        <div class="held" style={{ width: `${heldPct}%` }} />
      </div>
    </div>
  );
}

/** A ranked breakdown (spend by task, agent, service). */
export function HBars(props: { rows: { key: string; label?: string | undefined; micros: string; calls: number }[]; empty: string; onPick?: (key: string) => void }) {
  if (props.rows.length === 0) return <p class="muted">{props.empty}</p>;
  const max = props.rows.reduce((m, r) => (BigInt(r.micros) > m ? BigInt(r.micros) : m), 0n);
  return (
    <div class="hbars">
      {props.rows.map((r) => (
        <div class="hbar" key={r.key}>
          <span class="name" title={r.key}>{props.onPick ? <button type="button" class="link" onClick={() => props.onPick!(r.key)}>{r.label ?? r.key}</button> : r.label ?? r.key}</span>
          <div class="track" aria-hidden="true">
            <div class="used" style={{ width: `${max === 0n ? 0 : Number((BigInt(r.micros) * 1000n) / max) / 10}%` }} />
          </div>
          <span class="val">{cents(r.micros)} <span class="faint">· {plural(r.calls, 'call')}</span></span>
        </div>
      ))}
    </div>
  );
}
