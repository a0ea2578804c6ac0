/**
 * @module dashboard/events
 * The dashboard's server-sent-events stream: `call` events (one per finished or refused call in the
 * viewer's scope) and `approvals` events (the whole pending list of the scope, sent on connect and
 * whenever it changes). Bounded: at most `STREAMS_MAX` open streams per process, each open at most
 * `STREAM_DURATION_MS_MAX` (the page reconnects with a new ticket), a stream that falls
 * `STREAM_BACKLOG_MAX` events behind is closed, and the key is re-checked every minute.
 */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { TollgateError, type Db } from '@tollgate/core';
import type { AppEnv } from '../env.ts';
import type { ApiKeyPrincipal } from '../middleware/api-key/index.ts';
import { principalOfKey } from './stream-tickets.ts';
import type { FeedScope, LiveFeed } from './live-feed.ts';

export const STREAMS_MAX = 1_000;
export const STREAM_DURATION_MS_MAX = 30 * 60_000;
const STREAM_BACKLOG_MAX = 1_000;
const HEARTBEAT_MS = 15_000;
const KEY_RECHECK_MS = 60_000;

export type Topic = 'calls' | 'approvals';

export interface EventsOptions {
  db: Db;
  feed: LiveFeed;
  principal: ApiKeyPrincipal;
  scope: FeedScope;
  topics: ReadonlySet<Topic>;
  /** Open streams in this process (shared counter). */
  open: { count: number };
}

export function eventStream(c: Context<AppEnv>, options: EventsOptions): Response {
  const { db, feed, principal, scope, topics, open } = options;
  if (open.count >= STREAMS_MAX) throw new TollgateError('rate_limited', 'too many open event streams on this server; try again shortly', { retryAfterSeconds: 10 });
  open.count++;
  c.header('cache-control', 'no-store');
  c.header('x-accel-buffering', 'no');
  return streamSSE(c, async (stream) => {
    let backlog = 0;
    let chain: Promise<void> = Promise.resolve();
    let closed = false;
    const send = (event: string, data: unknown, id?: string) => {
      if (closed) return;
      if (++backlog > STREAM_BACKLOG_MAX) {
        closed = true;
        return;
      }
      chain = chain.then(() => stream.writeSSE({ event, data: JSON.stringify(data), ...(id ? { id } : {}) })).then(() => {
        backlog--;
      }, () => {
        closed = true;
      });
    };
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    stream.onAbort(() => {
      closed = true;
      stop();
    });
    void feed.closing.then(() => {
      closed = true;
      stop();
    });
    const unsubscribe = await feed.subscribe({
      scope,
      onCall: (call) => topics.has('calls') && send('call', call, call.seq),
      onApprovals: (pending) => topics.has('approvals') && send('approvals', { pending }),
    });
    send('ready', { role: principal.role, scope, topics: [...topics], heartbeatMs: HEARTBEAT_MS });
    const started = Date.now();
    let checkedKey = started;
    try {
      while (!closed && Date.now() - started < STREAM_DURATION_MS_MAX) {
        await Promise.race([stream.sleep(HEARTBEAT_MS), stopped]);
        if (closed) break;
        if (Date.now() - checkedKey >= KEY_RECHECK_MS) {
          checkedKey = Date.now();
          if (!(await principalOfKey(db, principal.keyId))) {
            send('end', { reason: 'the API key was revoked' });
            break;
          }
        }
        chain = chain.then(() => stream.write(': keep-alive\n\n').then(() => undefined));
      }
      if (!closed) send('end', { reason: 'stream lifetime reached; reconnect with a new ticket' });
      await chain;
    } finally {
      unsubscribe();
      open.count--;
    }
  });
}
