/**
 * @module api
 * The admin API from the browser: same origin, the signed-in API key as the bearer, JSON in and
 * out. A refusal becomes an `ApiError` carrying the server's problem+json (its `detail` and, when the
 * server names one, the `field`), so forms show the server's own message next to the field.
 */

export interface Problem {
  type?: string;
  title?: string;
  status: number;
  detail: string;
  code: string;
  field?: string;
  [key: string]: unknown;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The request field the server blamed (`totalCap`, `reapproval.priceAbove`…), when it named one. */
  readonly field: string | undefined;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`);
    this.status = problem.status;
    this.code = problem.code;
    this.field = typeof problem.field === 'string' ? problem.field : undefined;
    this.problem = problem;
  }
}

let apiKey: string | undefined;
let onUnauthorized: () => void = () => {};

export function setApiKey(key: string | undefined, unauthorized?: () => void): void {
  apiKey = key;
  if (unauthorized) onUnauthorized = unauthorized;
}

export type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text();
  try {
    const parsed = JSON.parse(text) as Problem;
    if (parsed && typeof parsed === 'object' && typeof parsed.detail === 'string') return parsed;
  } catch {
    // Not problem+json: a proxy's error page, say.
  }
  return { status: res.status, code: res.status >= 500 ? 'internal' : 'invalid_request', detail: text.slice(0, 300) || res.statusText };
}

export async function request(method: string, path: string, options: { query?: Query; body?: unknown; key?: string; accept?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  const key = options.key ?? apiKey;
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(withQuery(path, options.query), { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  if (!res.ok) {
    const problem = await problemOf(res);
    if (res.status === 401 && !options.key) onUnauthorized();
    throw new ApiError(problem);
  }
  return res;
}

export async function get<T>(path: string, query?: Query): Promise<T> {
  return (await request('GET', path, query ? { query } : {})).json() as Promise<T>;
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return (await request('POST', path, { body })).json() as Promise<T>;
}

/** Downloads an authenticated export (a plain link could not carry the key). */
export async function download(path: string, query: Query, filename: string): Promise<void> {
  const res = await request('GET', path, { query, accept: '*/*' });
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
