/**
 * @module session
 * Who is signed in. The API key is kept in sessionStorage (this tab only, gone when it closes) so a
 * reload keeps the session; it is never rendered. Signing out forgets it.
 */
export type Role = 'admin' | 'buyer' | 'seller';

export interface Session {
  apiKey: string;
  keyId: string;
  role: Role;
  orgId: string | null;
  userId: string | null;
  sellerId: string | null;
}

const STORAGE_KEY = 'tollgate.session';

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** The pages a role may open, in navigation order. */
export function pagesFor(role: Role): readonly PageId[] {
  if (role === 'seller') return ['seller'];
  if (role === 'buyer') return ['overview', 'approvals', 'grants', 'audit', 'wallet'];
  return ['overview', 'approvals', 'grants', 'audit', 'wallet', 'seller'];
}

export type PageId = 'overview' | 'approvals' | 'grants' | 'audit' | 'wallet' | 'seller';
