/**
 * @module pages/grants
 * Grants: create (the token is shown once, with a copy button), the delegation tree with what each
 * grant has left, revoke, and the panic button that revokes every grant of a user after a
 * confirmation.
 */
import { useState } from 'preact/hooks';
import { get, post } from '../api.ts';
import { Meter } from '../components/charts.tsx';
import { Badge, Card, ConfirmDialog, Empty, ErrorNotice, PageHead, SecretOnce, useLoad, useReloadOnCalls } from '../components/ui.tsx';
import type { PageContext } from '../context.ts';
import { dateTime } from '../format.ts';
import { GrantForm } from './grant-form.tsx';

interface GrantView {
  id: string; tokenHint: string; orgId: string; userId: string; agentId: string | null; taskId: string | null; parentId: string | null;
  status: 'active' | 'revoked' | 'expired' | 'exhausted' | 'scheduled';
  totalCapMicros: string; spentMicros: string; heldMicros: string; remainingMicros: string; perCallCapMicros: string | null;
  services: string[]; tools: string[]; tag: string | null; expiresAt: string | null; createdAt: string;
}

interface Node { grant: GrantView; children: Node[] }

function tree(grants: GrantView[]): Node[] {
  const nodes = new Map(grants.map((g) => [g.id, { grant: g, children: [] as Node[] }]));
  const roots: Node[] = [];
  for (const node of nodes.values()) {
    const parent = node.grant.parentId ? nodes.get(node.grant.parentId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  return roots;
}

function GrantRow(props: { node: Node; users: Map<string, string>; onRevoke: (g: GrantView) => void }) {
  const g = props.node.grant;
  const live = g.status === 'active' || g.status === 'scheduled';
  return (
    <li data-grant-id={g.id}>
      <div class={`card grant${live ? '' : ' ended'}`}>
        <div class="row" style={{ alignItems: 'flex-start' }}>
          <div style={{ flex: 1, minWidth: 0 }}>
            <div class="row" style={{ gap: '8px' }}>
              <strong>{g.tag ?? g.taskId ?? 'Grant'}</strong>
              <Badge kind="s" value={g.status} />
              <span class="muted mono">{g.id}</span>
            </div>
            <div class="muted" style={{ fontSize: '12.5px', margin: '4px 0 10px' }}>
              {props.users.get(g.userId) ?? g.userId}
              {g.agentId && <> · agent {g.agentId}</>}
              {g.taskId && <> · task {g.taskId}</>}
              {' '}· services <span class="mono">{g.services.join(', ')}</span>
              {g.tools.length > 0 && <> · tools <span class="mono">{g.tools.join(', ')}</span></>}
              {' '}· token <span class="mono">{g.tokenHint}</span>
              {g.expiresAt && <> · expires {dateTime(g.expiresAt)}</>}
            </div>
            <Meter label={live ? 'Remaining budget' : 'Spent'} capMicros={g.totalCapMicros} usedMicros={g.spentMicros} heldMicros={g.heldMicros} remainingLabel={live} />
          </div>
          {live && <button type="button" class="ghost-danger small" onClick={() => props.onRevoke(g)} aria-label={`Revoke grant ${g.id}`}>Revoke</button>}
        </div>
      </div>
      {props.node.children.length > 0 && (
        <ul class="tree" aria-label={`Delegated from ${g.id}`}>
          {props.node.children.map((c) => <GrantRow key={c.grant.id} node={c} users={props.users} onRevoke={props.onRevoke} />)}
        </ul>
      )}
    </li>
  );
}

export function Grants({ ctx }: { ctx: PageContext }) {
  const orgId = ctx.org?.id;
  const grants = useLoad(() => get<{ items: GrantView[] }>('/v1/grants', { orgId, limit: 500 }), [orgId]);
  // What each grant has left changes with every paid call.
  useReloadOnCalls(ctx.onCall, grants.reload);
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | undefined>();
  const [revoking, setRevoking] = useState<GrantView | undefined>();
  const [panicUser, setPanicUser] = useState('');
  const [panicking, setPanicking] = useState(false);
  const [notice, setNotice] = useState<string | undefined>();
  const [showEnded, setShowEnded] = useState(false);
  const users = new Map(ctx.users.map((u) => [u.id, u.name]));
  const items = (grants.data?.items ?? []).filter((g) => showEnded || g.status === 'active' || g.status === 'scheduled' || g.status === 'exhausted');
  const roots = tree(items);
  const panicTarget = panicUser || ctx.users[0]?.id || '';

  return (
    <>
      <PageHead title="Grants" subtitle="Scoped budgets for agents. Revoking takes effect on the next call.">
        {!creating && <button type="button" class="primary" onClick={() => { setCreating(true); setSecret(undefined); }}>New grant</button>}
      </PageHead>
      <div class="stack">
        {secret && <SecretOnce label="Grant created." secret={secret} onDone={() => setSecret(undefined)} />}
        {notice && <div class="notice ok" role="status">{notice}</div>}
        {creating && (
          <Card title="New grant">
            <GrantForm users={ctx.users} onCancel={() => setCreating(false)} onCreated={(token) => { setCreating(false); setSecret(token); grants.reload(); }} />
          </Card>
        )}
        <Card title="Grants and delegations" actions={
          <label class="checkbox"><input type="checkbox" checked={showEnded} onChange={(e) => setShowEnded((e.target as HTMLInputElement).checked)} /> Show revoked and expired</label>
        }>
          <ErrorNotice error={grants.error} />
          {roots.length === 0 ? <Empty title="No grants">Create one to give an agent a budget.</Empty> : (
            <ul class="tree" data-testid="grant-tree" style={{ display: 'grid', gap: '8px' }}>
              {roots.map((n) => <GrantRow key={n.grant.id} node={n} users={users} onRevoke={setRevoking} />)}
            </ul>
          )}
        </Card>
        <Card title="Emergency stop" class="danger-zone">
          <div class="row" style={{ alignItems: 'flex-end' }}>
            <div class="field" style={{ minWidth: '260px' }}>
              <label for="panic-user">User</label>
              <select id="panic-user" value={panicTarget} onChange={(e) => setPanicUser((e.target as HTMLSelectElement).value)}>
                {ctx.users.map((u) => <option key={u.id} value={u.id}>{u.name} ({u.id})</option>)}
              </select>
            </div>
            <button type="button" class="danger" disabled={!panicTarget} onClick={() => setPanicking(true)}>Panic: revoke all of this user's grants</button>
          </div>
          <p class="muted" style={{ margin: '10px 0 0' }}>Every grant of the user and everything delegated from them stops at once, in every server process.</p>
        </Card>
      </div>
      {revoking && (
        <ConfirmDialog title="Revoke this grant?" confirmLabel="Revoke grant" danger onCancel={() => setRevoking(undefined)}
          onConfirm={async () => {
            const r = await post<{ revoked: string[] }>(`/v1/grants/${encodeURIComponent(revoking.id)}/revoke`, { reason: 'revoked in the dashboard' });
            setRevoking(undefined);
            setNotice(`Revoked ${r.revoked.length} grant${r.revoked.length === 1 ? '' : 's'} (with delegations).`);
            grants.reload();
          }}>
          <p style={{ margin: 0 }}><span class="mono">{revoking.id}</span> and every grant delegated from it stop working on their next call. This cannot be undone.</p>
        </ConfirmDialog>
      )}
      {panicking && (
        <ConfirmDialog title="Revoke every grant of this user?" confirmLabel="Yes, revoke everything" danger onCancel={() => setPanicking(false)}
          onConfirm={async () => {
            const r = await post<{ revoked: string[] }>(`/v1/users/${encodeURIComponent(panicTarget)}/panic`);
            setPanicking(false);
            setNotice(`Panic: revoked ${r.revoked.length} grant${r.revoked.length === 1 ? '' : 's'} of ${users.get(panicTarget) ?? panicTarget}.`);
            grants.reload();
          }}>
          <p style={{ margin: 0 }}>All grants of <strong>{users.get(panicTarget) ?? panicTarget}</strong> are revoked now. Agents using them are refused from their next call. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
