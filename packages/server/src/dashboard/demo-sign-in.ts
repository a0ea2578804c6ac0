/**
 * @module dashboard/demo-sign-in
 * One-click sign-in for the demo, without handing the demo's admin key to anyone who can reach the
 * port. The public config says only that the demo is on. The key itself is given only to a request
 * that is provably from this machine's own browser:
 *  - the socket's peer is a loopback address, and there is no `Forwarded` / `X-Forwarded-For`
 *    header (behind a reverse proxy on the same host every visitor would look local);
 *  - the `Host` header names loopback (`localhost`, `127.x.x.x`, `[::1]`), which defeats DNS
 *    rebinding: a hostile page whose name resolves to 127.0.0.1 still sends its own name;
 *  - an `Origin` header, when sent, is this same host (no cross-site request can use it).
 * Anyone else is told to paste the key `tollgate serve` printed (and wrote to `.tollgate/demo-admin-key`,
 * mode 0600), which a person at this machine can read anyway.
 */
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { TollgateError } from '@tollgate/core';
import type { AppEnv } from '../env.ts';

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d{1,5})?$/i;

export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(address);
}

/** Why this request may not use the demo sign-in, or undefined when it may. */
export function demoSignInRefusal(c: Context<AppEnv>): string | undefined {
  let peer: string | undefined;
  try {
    peer = getConnInfo(c).remote.address;
  } catch {
    peer = undefined;
  }
  if (!isLoopbackAddress(peer)) return 'the demo sign-in works only from the machine running Tollgate';
  if (c.req.header('forwarded') || c.req.header('x-forwarded-for')) return 'the demo sign-in is not offered through a proxy';
  const host = c.req.header('host') ?? '';
  if (!LOOPBACK_HOST.test(host)) return 'the demo sign-in needs the page opened at localhost or 127.0.0.1';
  const origin = c.req.header('origin');
  if (origin && origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return 'the request came from another site';
    }
    if (originHost.toLowerCase() !== host.toLowerCase()) return 'the request came from another site';
  }
  return undefined;
}

/** Holds the demo's admin key once the demo is seeded (`tollgate serve` sets it). */
export class DemoSignIn {
  #adminKey: string | undefined;

  enable(adminKey: string): void {
    this.#adminKey = adminKey;
  }

  get enabled(): boolean {
    return this.#adminKey !== undefined;
  }

  /** The demo's admin key for a local request; `forbidden` (with why) for any other. */
  signIn(c: Context<AppEnv>): { apiKey: string; role: 'admin' } {
    if (!this.#adminKey) throw new TollgateError('not_found', 'the demo is not running on this server', {});
    const refusal = demoSignInRefusal(c);
    if (refusal) throw new TollgateError('forbidden', `${refusal}; sign in with the admin key that tollgate serve printed (also in .tollgate/demo-admin-key)`, { field: 'demo' });
    return { apiKey: this.#adminKey, role: 'admin' };
  }
}
