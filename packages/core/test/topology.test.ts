/**
 * Pins the package graph (CONTRIBUTING.md): dependencies point one way, core ← client, provider,
 * rails ← server (the dashboard is a static bundle the server serves), and core imports no HTTP
 * framework, MCP SDK or payment rail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');
const ALLOWED: Record<string, string[]> = {
  core: [],
  client: [],
  provider: ['@tollgate/core', '@tollgate/client'],
  rails: ['@tollgate/core'],
  server: ['@tollgate/core', '@tollgate/client', '@tollgate/provider', '@tollgate/rails'],
  dashboard: [],
};
/** What core must never import: frameworks and edges belong to the packages that depend on core. */
const CORE_FORBIDDEN = /^(hono|@hono\/|@modelcontextprotocol\/|@x402\/|mppx|viem|stripe|express|pino|prom-client|citty)/;

function manifest(name: string): Record<string, Record<string, string> | undefined> {
  return JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'));
}

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

test('workspace packages depend only on packages below them', () => {
  for (const [name, allowed] of Object.entries(ALLOWED)) {
    const m = manifest(name);
    const internal = Object.keys({ ...m.dependencies, ...m.peerDependencies }).filter((d) => d.startsWith('@tollgate/'));
    for (const dep of internal) assert.ok(allowed.includes(dep), `@tollgate/${name} must not depend on ${dep}`);
  }
});

test('core imports no framework, edge or rail', () => {
  const offenders: string[] = [];
  for (const file of sources(join(root, 'packages/core/src'))) {
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/^\s*import[^'"]*['"]([^'"]+)['"]/gm)) {
      if (spec && (CORE_FORBIDDEN.test(spec) || spec.startsWith('@tollgate/'))) offenders.push(`${file.slice(root.length + 1)} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});
