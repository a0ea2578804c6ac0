/**
 * @module cli/target
 * Where a CLI command acts: a running server's admin API (`--url`/`TOLLGATE_URL` with
 * `--api-key`/`TOLLGATE_API_KEY`, falling back to the demo's `.tollgate/demo-admin-key`), or the
 * database directly (`--database` / a `postgres://` or PGlite folder). Both answer with the same
 * JSON shapes, so commands print the same either way.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ServiceRegistry, TollgateError, jsonSafe, openDb, openTollgate, parseMicros, type AuditFilter, type Tollgate } from '@tollgate/core';
import { DEFAULT_DATA_DIR } from './database-url.ts';

export const targetArgs = {
  url: { type: 'string', description: 'Server URL (TOLLGATE_URL, default http://127.0.0.1:8787)' },
  'api-key': { type: 'string', description: 'Admin API key (TOLLGATE_API_KEY; the demo key in .tollgate/demo-admin-key is used if present)' },
  database: { type: 'string', description: 'Work on the database directly: postgres:// URL or PGlite folder (instead of a server)' },
  json: { type: 'boolean', description: 'Print JSON' },
} as const;

export interface TargetArgs {
  url?: string;
  'api-key'?: string;
  database?: string;
  json?: boolean;
}

type Json = any;

export interface Target {
  request(method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<Json>;
  /** Lines of an export, and a way to finish. */
  stream(path: string): AsyncIterable<string>;
  close(): Promise<void>;
}

/** Per-request timeout of the CLI's HTTP calls. */
const REQUEST_TIMEOUT_MS = 60_000;
/** An export may run long; it is bounded but generous. */
const EXPORT_TIMEOUT_MS = 60 * 60_000;

export async function openTarget(args: TargetArgs): Promise<Target> {
  if (args.database) return dbTarget(args.database);
  const url = (args.url ?? process.env.TOLLGATE_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
  const apiKey = args['api-key'] ?? process.env.TOLLGATE_API_KEY ?? demoKey();
  if (!apiKey) throw new TollgateError('unauthorized', 'no API key: pass --api-key or set TOLLGATE_API_KEY (or use --database to work on the database directly)');
  return httpTarget(url, apiKey);
}

function demoKey(): string | undefined {
  try {
    return readFileSync(resolve('.tollgate/demo-admin-key'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

async function throwProblem(response: Response): Promise<never> {
  const text = await response.text();
  let problem: { code?: string; detail?: string } = {};
  try {
    problem = JSON.parse(text);
  } catch {
    // Not problem+json; report the status.
  }
  const code = problem.code && problem.code in { unauthorized: 1 } ? 'unauthorized' : problem.code;
  throw new TollgateError((code as never) ?? 'internal', problem.detail ?? `HTTP ${response.status}: ${text.slice(0, 200)}`, problem as Record<string, unknown>);
}

function httpTarget(url: string, apiKey: string): Target {
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  return {
    async request(method, path, body) {
      const response = await fetch(`${url}${path}`, { method, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(body === undefined ? {} : { body: JSON.stringify(jsonSafe(body)) }) });
      if (!response.ok) await throwProblem(response);
      return (response.headers.get('content-type') ?? '').includes('json') ? response.json() : response.text();
    },
    async *stream(path) {
      const response = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS) });
      if (!response.ok || !response.body) await throwProblem(response);
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          yield buffered.slice(0, newline + 1);
          buffered = buffered.slice(newline + 1);
        }
      }
      if (buffered) yield buffered;
    },
    async close() {},
  };
}

/** The admin routes the CLI uses, served from the core directly. */
async function dbTarget(database: string): Promise<Target> {
  const db = await openDb(database === 'default' ? DEFAULT_DATA_DIR : database);
  const tg = await openTollgate({ db });
  const services = new ServiceRegistry({ db, upstreams: { allowLoopback: true } });
  const route = async (method: string, path: string, body: Json): Promise<Json> => {
    const url = new URL(path, 'http://cli.local');
    const q = Object.fromEntries(url.searchParams);
    const parts = url.pathname.split('/').filter(Boolean).slice(1);
    const key = `${method} /${parts.map((p, i) => (i % 2 === 1 && !['top-ups', 'export', 'explain'].includes(p) ? ':' : p)).join('/')}`;
    switch (key) {
      case 'POST /grants': {
        const created = await tg.grants.create(body);
        return { grant: await tg.grants.get(created.grant.id), token: created.token };
      }
      case 'GET /grants': return { items: await tg.grants.list({ ...q, ...(q.limit ? { limit: Number(q.limit) } : {}) } as never) };
      case 'POST /grants/:/revoke': return tg.grants.revoke(parts[1]!, body?.reason ?? 'revoked');
      case 'POST /users/:/panic': return tg.grants.panic(parts[1]!);
      case 'GET /approvals': return tg.approvals.list(q as never);
      case 'POST /approvals/:/approve':
      case 'POST /approvals/:/deny': {
        const result = await tg.approvals.decide(parts[1]!, { decision: parts[2] === 'approve' ? 'approve' : 'deny', decidedBy: body?.decidedBy ?? 'cli', ...(body?.note ? { note: body.note } : {}), ...(body?.scope ? { scope: body.scope } : {}), ...(body?.raise ? { raiseMicros: parseMicros(body.raise, { field: 'raise' }) } : {}) });
        if (result.type === 'expired') throw new TollgateError('conflict', `approval ${parts[1]} expired before it was decided`);
        return result.approval;
      }
      case 'POST /services': return services.create(body);
      case 'GET /services': return { items: await services.list() };
      case 'POST /wallets/top-ups': return tg.wallets.topUp(body);
      case 'GET /wallets/:': return tg.wallets.balance(parts[1]!);
      case 'GET /calls': return tg.audit.query({ ...auditFilter(q), ...(q.limit ? { limit: Number(q.limit) } : {}) });
      case 'GET /calls/:/explain': return tg.audit.explain(parts[1]!);
      default: throw new TollgateError('not_found', `the CLI cannot do ${method} ${url.pathname} on the database directly`);
    }
  };
  return {
    request: (method, path, body) => route(method, path, body).then((v) => jsonSafe(v)),
    stream(path) {
      const url = new URL(path, 'http://cli.local');
      const q = Object.fromEntries(url.searchParams);
      const filter = auditFilter(q);
      return q.format === 'jsonl' ? tg.audit.exportJsonl(filter) : q.format === 'journal' ? tg.audit.exportJournal(filter) : tg.audit.exportCsv(filter);
    },
    async close() {
      await tg.close();
      await db.close();
    },
  };
}

function auditFilter(q: Record<string, string>): AuditFilter {
  const filter: Record<string, unknown> = {};
  for (const key of ['orgId', 'userId', 'grantId', 'agentId', 'taskId', 'service', 'outcome']) if (q[key]) filter[key] = q[key];
  if (q.from) filter.from = new Date(q.from);
  if (q.to) filter.to = new Date(q.to);
  return filter as AuditFilter;
}

export function queryString(values: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '' && v !== false) params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Runs `fn` with a target, closing it afterwards. */
export async function withTarget<T>(args: TargetArgs, fn: (target: Target) => Promise<T>): Promise<T> {
  const target = await openTarget(args);
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}
