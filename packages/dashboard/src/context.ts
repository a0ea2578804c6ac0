/**
 * @module context
 * What every page receives from the shell: the session, the org (or seller) in view, and the live
 * stream's state (pending approvals, connection status, a way to hear each new call).
 */
import type { LiveCall, LiveStatus, PendingApproval } from './live.ts';
import type { Session } from './session.ts';

export interface Org {
  id: string;
  name: string;
  currency: string;
  monthlyLimitMicros: string | null;
}

export interface User {
  id: string;
  orgId: string;
  name: string;
  email: string | null;
  monthlyLimitMicros: string | null;
}

export interface PageContext {
  session: Session;
  /** The org in view: the buyer key's org, or the one an admin picked; undefined when there is none. */
  org: Org | undefined;
  users: User[];
  pending: PendingApproval[];
  liveStatus: LiveStatus;
  /** Subscribes to new calls; returns the unsubscribe function. */
  onCall(listener: (call: LiveCall) => void): () => void;
}
