/**
 * @module pages/wallet
 * A wallet: what is available, held by calls in flight and ever credited; top-ups (admins); and
 * the ledger transfers that moved it, newest first.
 */
import { useState } from 'preact/hooks';
import { get, post } from '../api.ts';
import { Badge, Card, Empty, ErrorNotice, Field, PageHead, Stat, useFormErrors, useLoad, useReloadOnCalls } from '../components/ui.tsx';
import type { PageContext } from '../context.ts';
import { cents, dateTime, money, parseAmount, shortId } from '../format.ts';

interface Balance { ownerId: string; currency: string; availableMicros: string; heldMicros: string; postedMicros: string }
interface Transfer { id: string; debitAccountId: string; creditAccountId: string; amount: string; pendingId: string | null; code: number; flags: number; metadata: Record<string, unknown>; timestamp: string }

const FLAG = { pending: 2, post: 4, void: 8 };
const CODES: Record<number, string> = { 1: 'Top-up', 2: 'Call charge', 3: 'Seller earnings', 4: 'Platform fee', 5: 'Payout' };

function describe(t: Transfer): { what: string; state: 'pending' | 'ok' | 'expired' } {
  const what = CODES[t.code] ?? `Transfer (code ${t.code})`;
  if (t.flags & FLAG.void) return { what: `${what} released`, state: 'expired' };
  if (t.flags & FLAG.post) return { what: `${what} captured`, state: 'ok' };
  if (t.flags & FLAG.pending) return { what: `${what} hold`, state: 'pending' };
  return { what, state: 'ok' };
}

function callOf(t: Transfer, byHold: Map<string, string>): string | undefined {
  if (typeof t.metadata.callId === 'string') return t.metadata.callId;
  return t.pendingId ? byHold.get(t.pendingId) : undefined;
}

function TopUp(props: { ownerId: string; onDone: () => void }) {
  const [amount, setAmount] = useState('');
  const [reference, setReference] = useState(() => `dashboard-${Date.now()}`);
  const [done, setDone] = useState<string | undefined>();
  const form = useFormErrors();
  const submit = async (e: Event) => {
    e.preventDefault();
    setDone(undefined);
    if (parseAmount(amount) === undefined || parseAmount(amount) === 0n) {
      form.setErrors({ amount: 'A positive decimal amount such as 50.00.' });
      return;
    }
    try {
      const r = await post<{ applied: boolean }>('/v1/wallets/top-ups', { ownerId: props.ownerId, amount: amount.trim(), reference });
      form.reset();
      setDone(r.applied ? `Added ${amount}.` : 'This reference was already applied; nothing was added twice.');
      setAmount('');
      setReference(`dashboard-${Date.now()}`);
      props.onDone();
    } catch (err) {
      form.fromError(err, ['amount', 'reference', 'ownerId']);
    }
  };
  return (
    <form onSubmit={submit} noValidate class="stack" aria-label="Top up">
      {form.general && <ErrorNotice error={new Error(form.general)} />}
      {done && <div class="notice ok" role="status">{done}</div>}
      <Field label="Amount" error={form.errors.amount}>
        {({ id, describedBy, invalid }) => <input id={id} name="amount" inputMode="decimal" placeholder="50.00" value={amount} aria-invalid={invalid} aria-describedby={describedBy} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />}
      </Field>
      <Field label="Reference" hint="Your bank transfer or invoice id; a repeat is applied once." error={form.errors.reference}>
        {({ id, describedBy, invalid }) => <input id={id} name="reference" value={reference} aria-invalid={invalid} aria-describedby={describedBy} onInput={(e) => setReference((e.target as HTMLInputElement).value)} />}
      </Field>
      <div><button type="submit" class="primary">Add funds</button></div>
    </form>
  );
}

export function Wallet({ ctx }: { ctx: PageContext }) {
  const owners = [...ctx.users.map((u) => ({ id: u.id, name: u.name })), ...(ctx.org ? [{ id: ctx.org.id, name: `${ctx.org.name} (org wallet)` }] : [])];
  const [picked, setPicked] = useState('');
  const ownerId = picked || owners[0]?.id || '';
  const balance = useLoad(() => (ownerId ? get<Balance>(`/v1/wallets/${encodeURIComponent(ownerId)}`) : Promise.resolve(undefined)), [ownerId]);
  const transfersPath = `/v1/wallets/${encodeURIComponent(ownerId)}/transfers`;
  const [older, setOlder] = useState<{ transfers: Transfer[]; next?: string | undefined }>({ transfers: [] });
  const transfers = useLoad(async () => {
    if (!ownerId) return undefined;
    const page = await get<{ transfers: Transfer[]; next?: string }>(transfersPath, { limit: 50 });
    setOlder({ transfers: [], next: page.next });
    return page;
  }, [ownerId, balance.data?.availableMicros]);
  const rows = [...(transfers.data?.transfers ?? []), ...older.transfers];
  const more = async () => {
    const page = await get<{ transfers: Transfer[]; next?: string }>(transfersPath, { limit: 50, before: older.next });
    setOlder((o) => ({ transfers: [...o.transfers, ...page.transfers], next: page.next }));
  };
  useReloadOnCalls(ctx.onCall, balance.reload);
  const account = `wallet:${ownerId}`;
  // A capture carries only its hold's id; the hold carries the call.
  const callByHold = new Map(rows.filter((t) => typeof t.metadata.callId === 'string').map((t) => [t.id, t.metadata.callId as string]));
  const b = balance.data;
  return (
    <>
      <PageHead title="Wallet" subtitle="Prepaid balance that paid calls draw on.">
        <div class="field" style={{ minWidth: '260px' }}>
          <label for="wallet-owner" class="sr-only">Wallet</label>
          <select id="wallet-owner" value={ownerId} onChange={(e) => setPicked((e.target as HTMLSelectElement).value)}>
            {owners.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
          </select>
        </div>
      </PageHead>
      <ErrorNotice error={balance.error} />
      <div class="stack">
        <div class="grid grid-3">
          <Stat label="Available" value={cents(b?.availableMicros ?? '0')} unit={b?.currency} />
          <Stat label="Held by calls in flight" value={cents(b?.heldMicros ?? '0')} unit={b?.currency} />
          <Stat label="Settled balance" value={cents(b?.postedMicros ?? '0')} unit={b?.currency} sub="Available plus what is held" />
        </div>
        <div class="grid grid-main">
          <Card title="Transactions" flush>
            {rows.length === 0 ? <Empty title="No transactions yet" /> : (
              <table>
                <thead><tr><th>Time</th><th>What</th><th>Reference</th><th class="num">Amount</th></tr></thead>
                <tbody>
                  {rows.map((t) => {
                    const d = describe(t);
                    const incoming = t.creditAccountId === account;
                    const callId = callOf(t, callByHold);
                    return (
                      <tr key={t.id}>
                        <td class="nowrap">{dateTime(new Date(Number(t.timestamp)).toISOString())}</td>
                        <td><Badge kind="s" value={d.state === 'ok' ? 'ok' : d.state} label={d.what} /></td>
                        <td class="muted mono">{callId ? <a href={`#/calls/${callId}`} title={callId}>{shortId(callId, 16)}</a> : typeof t.metadata.reference === 'string' ? <span title={t.metadata.reference}>{shortId(t.metadata.reference, 22)}</span> : '—'}</td>
                        <td class="num" style={{ color: incoming ? 'var(--ok)' : d.state !== 'ok' ? 'var(--muted)' : undefined }}>
                          {d.state === 'pending' ? `held ${money(t.amount)}` : d.state === 'expired' ? `released ${money(t.amount)}` : `${incoming ? '+' : '−'}${money(t.amount)}`}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            )}
            {older.next && <div style={{ padding: '12px 18px' }}><button type="button" class="small" onClick={more}>Load older transactions</button></div>}
          </Card>
          {ctx.session.role === 'admin' ? (
            <Card title="Top up"><TopUp ownerId={ownerId} onDone={balance.reload} /></Card>
          ) : (
            <Card title="Top up"><p class="muted" style={{ margin: 0 }}>Top-ups are made by an administrator (or by a payment rail).</p></Card>
          )}
        </div>
      </div>
    </>
  );
}
