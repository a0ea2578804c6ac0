/**
 * @module app
 * The shell: sign-in, navigation by role (with the pending-approval count), the org picker for
 * admins, one live event stream shared by every page, and the hash router.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get, setApiKey } from './api.ts';
import type { Org, PageContext, User } from './context.ts';
import { LiveConnection, type LiveCall, type LiveStatus, type PendingApproval } from './live.ts';
import { navigate, useRoute } from './router.ts';
import { loadSession, pagesFor, saveSession, type PageId, type Session } from './session.ts';
import { SignIn } from './pages/sign-in.tsx';
import { BrandMark } from './components/ui.tsx';
import { Overview } from './pages/overview.tsx';
import { Approvals } from './pages/approvals.tsx';
import { Grants } from './pages/grants.tsx';
import { Audit } from './pages/audit.tsx';
import { CallPage } from './pages/call.tsx';
import { Wallet } from './pages/wallet.tsx';
import { Seller } from './pages/seller.tsx';

const TITLES: Record<PageId, string> = { overview: 'Overview', approvals: 'Approvals', grants: 'Grants', audit: 'Audit', wallet: 'Wallet', seller: 'Seller' };

const ICONS: Record<PageId, string> = {
  overview: 'M3 13h4v8H3zM10 8h4v13h-4zM17 3h4v18h-4z',
  approvals: 'M5 12l4 4L19 6',
  grants: 'M4 7h16v12H4zM8 7V5h8v2',
  audit: 'M5 4h14v16H5zM8 8h8M8 12h8M8 16h5',
  wallet: 'M3 7h18v12H3zM16 13h2',
  seller: 'M4 20V10l8-6 8 6v10zM10 20v-6h4v6',
};

export function App() {
  const [session, setSession] = useState<Session | undefined>(() => loadSession());
  const signOut = () => {
    saveSession(undefined);
    setApiKey(undefined);
    setSession(undefined);
  };
  if (session) setApiKey(session.apiKey, signOut);
  if (!session) {
    return <SignIn onSignedIn={(s) => { saveSession(s); setApiKey(s.apiKey, signOut); setSession(s); navigate(pagesFor(s.role)[0]!); }} />;
  }
  return <Shell session={session} onSignOut={signOut} />;
}

function Shell(props: { session: Session; onSignOut: () => void }) {
  const { session } = props;
  const route = useRoute();
  const pages = pagesFor(session.role);
  const [orgs, setOrgs] = useState<Org[]>([]);
  const [orgId, setOrgId] = useState<string | undefined>(session.orgId ?? undefined);
  const [users, setUsers] = useState<User[]>([]);
  const [pending, setPending] = useState<PendingApproval[]>([]);
  const [liveStatus, setLiveStatus] = useState<LiveStatus>('connecting');
  const listeners = useRef(new Set<(call: LiveCall) => void>());

  useEffect(() => {
    if (session.role === 'seller') return;
    get<{ items: Org[] }>('/v1/orgs').then(({ items }) => {
      setOrgs(items);
      setOrgId((current) => current ?? items[0]?.id);
    }, () => setOrgs([]));
  }, [session.keyId]);

  useEffect(() => {
    if (!orgId) return;
    get<{ items: User[] }>(`/v1/orgs/${encodeURIComponent(orgId)}/users`).then(({ items }) => setUsers(items), () => setUsers([]));
  }, [orgId]);

  useEffect(() => {
    if (session.role !== 'seller' && !orgId && orgs.length > 0) return;
    const live = new LiveConnection(
      { onCall: (call) => listeners.current.forEach((l) => l(call)), onApprovals: setPending, onStatus: setLiveStatus },
      { orgId: session.role === 'admin' ? orgId : undefined, topics: session.role === 'seller' ? 'calls' : 'calls,approvals' },
    );
    live.start();
    return () => live.stop();
  }, [session.keyId, orgId]);

  const org = orgs.find((o) => o.id === orgId);
  const onCall = useCallback((listener: (call: LiveCall) => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const context: PageContext = useMemo(() => ({ session, org, users, pending, liveStatus, onCall }), [session, org, users, pending, liveStatus, onCall]);

  const page = (pages as readonly string[]).includes(route.page) || route.page === 'calls' ? route.page : pages[0]!;
  useEffect(() => {
    document.title = `${page === 'calls' ? 'Call' : TITLES[page as PageId]} · Tollgate`;
  }, [page]);

  return (
    <div class="shell">
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>Skip to content</a>
      <nav class="nav" aria-label="Main">
        <div class="brand">
          <BrandMark />
          Tollgate
        </div>
        {pages.map((p) => (
          <a key={p} href={`#/${p}`} aria-current={page === p || (p === 'audit' && page === 'calls') ? 'page' : undefined}>
            <span class="row" style={{ gap: '10px' }}>
              <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true"><path d={ICONS[p]} fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round" /></svg>
              {TITLES[p]}
            </span>
            {p === 'approvals' && pending.length > 0 && <span class="count" data-testid="approval-count" aria-label={`${pending.length} pending`}>{pending.length}</span>}
          </a>
        ))}
        <div class="nav-foot">
          {session.role === 'admin' && orgs.length > 0 && (
            <div class="field">
              <label for="org-picker" style={{ color: 'var(--nav-text)' }}>Organisation</label>
              <select id="org-picker" value={orgId} onChange={(e) => setOrgId((e.target as HTMLSelectElement).value)}>
                {orgs.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
              </select>
            </div>
          )}
          <div>
            <div class="who">{session.role === 'admin' ? 'Administrator' : session.role === 'buyer' ? org?.name ?? 'Buyer' : `Seller ${session.sellerId ?? ''}`}</div>
            <div>{session.role} key · <span class={`live-dot ${liveStatus}`} style={{ color: 'var(--nav-text)' }}>{liveStatus}</span></div>
          </div>
          <button type="button" class="small" onClick={props.onSignOut}>Sign out</button>
        </div>
      </nav>
      <main id="main" tabIndex={-1}>
        {page === 'overview' && <Overview ctx={context} />}
        {page === 'approvals' && <Approvals ctx={context} />}
        {page === 'grants' && <Grants ctx={context} />}
        {page === 'audit' && <Audit ctx={context} query={route.query} />}
        {page === 'calls' && route.param && <CallPage ctx={context} callId={route.param} />}
        {page === 'wallet' && <Wallet ctx={context} />}
        {page === 'seller' && <Seller ctx={context} />}
      </main>
    </div>
  );
}
