/**
 * @module router
 * Hash routes (`#/grants`, `#/calls/call_…`): the server serves one page at `/`, so no path on the
 * server can collide with a dashboard route and a reload always works.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  page: string;
  /** The rest of the path (`call_…` in `#/calls/call_…`). */
  param: string | undefined;
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const [page = '', ...rest] = path.split('/');
  return { page: decodeURIComponent(page), param: rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined, query: new URLSearchParams(search) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function navigate(to: string): void {
  location.hash = to.startsWith('#') ? to : `#${to}`;
}
