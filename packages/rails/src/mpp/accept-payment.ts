/**
 * @module mpp/accept-payment
 * The `Accept-Payment` request header (core spec §"Client Payment Preferences"): which
 * method/intent pairs the client takes, with q-values (`evm/charge, evm/*;q=0.5, *\/session;q=0`).
 * Challenges are filtered to ranges with q > 0 and ordered by q (the server's order breaks ties; the
 * most specific range decides for a challenge). A malformed header, or one that matches nothing,
 * is ignored: the client then gets every challenge.
 */

interface Range {
  method: string;
  intent: string;
  q: number;
}

/** Longest header read; a longer one is ignored. */
const ACCEPT_PAYMENT_LENGTH_MAX = 1_024;
const TOKEN = /^([a-z][a-z0-9:_-]*|\*)\/([A-Za-z0-9-]+|\*)$/;

export function parseAcceptPayment(value: string | null | undefined): Range[] | undefined {
  if (!value || value.length > ACCEPT_PAYMENT_LENGTH_MAX) return undefined;
  const ranges: Range[] = [];
  for (const part of value.split(',')) {
    const [token, ...params] = part.trim().split(';').map((s) => s.trim());
    const match = TOKEN.exec(token ?? '');
    if (!match) return undefined;
    let q = 1;
    for (const param of params) {
      const qMatch = /^q=(0(\.\d{0,3})?|1(\.0{0,3})?)$/.exec(param);
      if (!qMatch) return undefined;
      q = Number(qMatch[1]);
    }
    ranges.push({ method: match[1]!, intent: match[2]!, q });
  }
  return ranges;
}

/** `items` filtered and ordered by the client's preferences (unchanged when there are none that apply). */
export function byPreference<T extends { method: string; intent: string }>(items: readonly T[], header: string | null | undefined): T[] {
  const ranges = parseAcceptPayment(header);
  if (!ranges) return [...items];
  const weighed = items.map((item, index) => ({ item, index, q: weightOf(ranges, item) }));
  const accepted = weighed.filter((w) => w.q > 0);
  if (accepted.length === 0) return [...items];
  return accepted.sort((a, b) => b.q - a.q || a.index - b.index).map((w) => w.item);
}

/** The q of the most specific range that matches (exact beats one wildcard beats two); 0 when none. */
function weightOf(ranges: readonly Range[], item: { method: string; intent: string }): number {
  let best: { specificity: number; q: number } | undefined;
  for (const range of ranges) {
    if ((range.method !== '*' && range.method !== item.method) || (range.intent !== '*' && range.intent !== item.intent)) continue;
    const specificity = (range.method === '*' ? 0 : 2) + (range.intent === '*' ? 0 : 1);
    if (!best || specificity > best.specificity) best = { specificity, q: range.q };
  }
  return best?.q ?? 0;
}
