/**
 * @module dashboard/bundle
 * The web dashboard's built files: `ensureDashboardBuilt()` runs Vite when `packages/dashboard/dist`
 * is missing or older than its sources (so `npm install && npm start` needs no build step), and
 * `dashboardAssets()` serves the build from memory at `/`, with immutable caching for hashed assets
 * and a content security policy that allows nothing but this origin.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../env.ts';

/** The dashboard package in this checkout (the server serves it; it is a static bundle, no import). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));

const SOURCES = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** Same-origin only: the SPA talks to /v1 on this server and loads nothing from elsewhere. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

function newestMtimeMs(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, name)));
  return newest;
}

/** Whether `dist` is missing or older than any source file. */
export function dashboardStale(dir = DASHBOARD_DIR): boolean {
  const built = join(dir, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const builtMs = statSync(built).mtimeMs;
  return SOURCES.some((s) => newestMtimeMs(join(dir, s)) > builtMs);
}

export type BuildResult = { type: 'fresh' } | { type: 'built'; ms: number } | { type: 'unavailable'; reason: string } | { type: 'failed'; reason: string };

/**
 * Builds the dashboard when it is stale. Vite writes into a private folder that is then renamed into
 * place, so two processes starting at once (parallel test files) never serve a half-written build.
 * Without Vite (a production install without dev dependencies) a committed or copied `dist` is used
 * as is, and a missing one is reported, not fatal: the API works without the dashboard. A failed
 * build (a syntax error in a checkout being edited) is reported the same way; the last good build,
 * if any, keeps being served.
 */
export async function ensureDashboardBuilt(options: { dir?: string; log?: (line: string) => void } = {}): Promise<BuildResult> {
  const dir = options.dir ?? DASHBOARD_DIR;
  if (!dashboardStale(dir)) return { type: 'fresh' };
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    return { type: 'unavailable', reason: 'vite is not installed (dev dependencies omitted); serve a prebuilt packages/dashboard/dist' };
  }
  const started = Date.now();
  options.log?.('Building the dashboard (packages/dashboard)…');
  const outDir = mkdtempSync(join(dir, '.dist-'));
  try {
    try {
      await vite.build({ root: dir, configFile: join(dir, 'vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    } catch (error) {
      return { type: 'failed', reason: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
    }
    const target = join(dir, 'dist');
    rmSync(target, { recursive: true, force: true });
    try {
      renameSync(outDir, target);
    } catch (error) {
      // Another process renamed its build into place first: theirs is as good as ours.
      if (!existsSync(join(target, 'index.html'))) throw error;
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  return { type: 'built', ms: Date.now() - started };
}

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

interface Loaded {
  stampMs: number;
  files: Map<string, Asset>;
}

function load(distDir: string): Loaded | undefined {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) return undefined;
  const files = new Map<string, Asset>();
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.set(`/${relative(distDir, full).split('\\').join('/')}`, { body: new Uint8Array(readFileSync(full)), type: TYPES[extname(name)] ?? 'application/octet-stream' });
    }
  };
  walk(distDir);
  return { stampMs: statSync(index).mtimeMs, files };
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tollgate</title></head>
<body style="font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>Tollgate</h1><p>The dashboard is not built. <code>npm start</code> builds it; or run
<code>npm run build -w @tollgate/dashboard</code>. The API is up: <a href="/docs">/docs</a>.</p></body></html>`;

/**
 * Serves the build at `/` (index.html), `/assets/*` and top-level public files. The files are read
 * once into memory and re-read when `index.html` changes (a rebuild while running).
 */
export function dashboardAssets(app: Hono<AppEnv>, options: { dir?: string } = {}): void {
  const distDir = join(options.dir ?? DASHBOARD_DIR, 'dist');
  let loaded: Loaded | undefined;
  const current = (): Loaded | undefined => {
    const index = join(distDir, 'index.html');
    const stampMs = existsSync(index) ? statSync(index).mtimeMs : 0;
    if (!loaded || loaded.stampMs !== stampMs) loaded = load(distDir);
    return loaded;
  };
  const security = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };
  app.get('/', (c) => {
    const asset = current()?.files.get('/index.html');
    // A page that says how to build it, not an error: the server and its API are fine.
    if (!asset) return c.html(NOT_BUILT, 200, { 'cache-control': 'no-store' });
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': 'no-cache', ...security });
  });
  const file = (immutable: boolean) => (c: Context<AppEnv>) => {
    const asset = current()?.files.get(c.req.path);
    if (!asset) return c.notFound();
    return c.body(asset.body, 200, { 'content-type': asset.type, 'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache', ...security });
  };
  app.get('/assets/*', file(true));
  app.get('/favicon.svg', file(false));
}
