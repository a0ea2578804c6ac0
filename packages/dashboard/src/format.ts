/**
 * @module format
 * Money arrives as integer micro-units in decimal strings and is formatted with integer arithmetic
 * (never floats), like the server does. Times are shown in the viewer's locale.
 */

const MICROS = 1_000_000n;

/** "12345678" micros → "12.35" style: at least 2 decimals, more when the amount has them. */
export function money(micros: string | bigint | number | null | undefined, currency?: string): string {
  if (micros === null || micros === undefined) return '—';
  let value = BigInt(micros);
  const negative = value < 0n;
  if (negative) value = -value;
  const whole = value / MICROS;
  let frac = (value % MICROS).toString().padStart(6, '0').replace(/0+$/, '');
  if (frac.length < 2) frac = frac.padEnd(2, '0');
  const grouped = whole.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const text = `${negative ? '−' : ''}${grouped}.${frac}`;
  return currency ? `${text} ${currency}` : text;
}

/** Micros as a JS number of currency units, for chart geometry only (never for amounts shown). */
export function units(micros: string | bigint | null | undefined): number {
  return micros === null || micros === undefined ? 0 : Number(BigInt(micros)) / 1e6;
}

/** Decimal currency text → micros, for form checks before sending; undefined when not an amount. */
export function parseAmount(text: string): bigint | undefined {
  const m = /^(0|[1-9]\d*)(?:\.(\d{1,6}))?$/.exec(text.trim());
  if (!m) return undefined;
  return BigInt(m[1]!) * MICROS + BigInt((m[2] ?? '').padEnd(6, '0'));
}

/** Rounded to cents (half up) for totals and charts; exact amounts stay in `money`. */
export function cents(micros: string | bigint | null | undefined, currency?: string): string {
  if (micros === null || micros === undefined) return '—';
  const value = BigInt(micros);
  const rounded = ((value < 0n ? value - 5_000n : value + 5_000n) / 10_000n) * 10_000n;
  return money(rounded, currency);
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function time(iso: string): string {
  return new Date(iso).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function relative(iso: string, now = Date.now()): string {
  const s = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(s);
  const [n, unit] = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86_400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86_400), 'd'];
  return s >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

export function percent(value: number): string {
  return `${(value * 100).toFixed(value < 0.1 ? 1 : 0)}%`;
}

export function shortId(id: string | null | undefined, keep = 10): string {
  if (!id) return '—';
  return id.length > keep + 6 ? `${id.slice(0, keep)}…` : id;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 call", "2 calls". */
export function plural(n: number, word: string): string {
  return `${count(n)} ${word}${n === 1 ? '' : 's'}`;
}
