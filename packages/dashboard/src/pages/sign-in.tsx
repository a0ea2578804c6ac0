/**
 * @module pages/sign-in
 * Sign in with an API key (its role decides what the dashboard shows), or, when the server runs the
 * demo, in one click from the machine running it.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, post, request } from '../api.ts';
import { BrandMark, Field } from '../components/ui.tsx';
import type { Role, Session } from '../session.ts';

interface Me {
  keyId: string;
  role: Role;
  orgId: string | null;
  userId: string | null;
  sellerId: string | null;
}

async function sessionFor(apiKey: string): Promise<Session> {
  const me = (await (await request('GET', '/v1/me', { key: apiKey })).json()) as Me;
  return { apiKey, keyId: me.keyId, role: me.role, orgId: me.orgId, userId: me.userId, sellerId: me.sellerId };
}

export function SignIn(props: { onSignedIn: (session: Session) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [demoError, setDemoError] = useState<string | undefined>();
  const [demo, setDemo] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    get<{ demo: boolean }>('/v1/dashboard/config').then((c) => setDemo(c.demo), () => setDemo(false));
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (key.trim().length < 20) {
      setError('Paste a whole API key (tg_ak_… or tg_sk_…).');
      return;
    }
    setBusy(true);
    try {
      props.onSignedIn(await sessionFor(key.trim()));
    } catch (err) {
      setError(err instanceof ApiError ? err.message : 'Could not reach the server.');
      setBusy(false);
    }
  };

  const demoSignIn = async () => {
    setBusy(true);
    try {
      const { apiKey } = await post<{ apiKey: string }>('/v1/dashboard/demo-session');
      props.onSignedIn(await sessionFor(apiKey));
    } catch (err) {
      setDemoError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <div class="signin">
      <main class="card" aria-labelledby="signin-title">
        <div class="brand">
          <BrandMark />
          Tollgate
        </div>
        <div>
          <h1 id="signin-title">Sign in</h1>
          <p class="muted" style={{ margin: '6px 0 0' }}>Use an API key. An admin key sees everything; a buyer key its org's spending; a seller key its services and earnings.</p>
        </div>
        <form onSubmit={submit} class="stack" noValidate>
          <Field label="API key" error={error} hint="Kept in this browser tab only, and never shown again.">
            {({ id, describedBy, invalid }) => (
              <input id={id} name="apiKey" type="password" autoComplete="off" spellcheck={false} value={key} aria-invalid={invalid} aria-describedby={describedBy}
                onInput={(e) => { setKey((e.target as HTMLInputElement).value); setError(undefined); }} />
            )}
          </Field>
          <button type="submit" class="primary" disabled={busy}>Sign in</button>
        </form>
        {demo && (
          <>
            <div class="divider">or</div>
            <div class="stack" style={{ gap: '8px' }}>
              <button type="button" onClick={demoSignIn} disabled={busy}>Open the demo as administrator</button>
              <span class="muted" style={{ fontSize: '12.5px' }}>Works from the machine running <code>tollgate serve</code> only; elsewhere, paste the admin key it printed.</span>
              {demoError && <div class="notice error" role="alert">{demoError}</div>}
            </div>
          </>
        )}
      </main>
    </div>
  );
}
