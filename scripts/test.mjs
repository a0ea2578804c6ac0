// Runs the type check, then every *.test.ts under packages/ with node's test runner (through tsx).
// Node 20's --test does not expand globs, so the files are listed here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = findTests('packages').filter((f) => filter.length === 0 || filter.some((p) => f.includes(p))).sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

if (filter.length === 0) {
  const tsc = spawnSync('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit'], { stdio: 'inherit' });
  if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  // The dashboard's TSX compiles with its own settings (JSX for Preact, bundler resolution).
  const dashboard = spawnSync('npx', ['tsc', '-p', 'packages/dashboard/tsconfig.json', '--noEmit'], { stdio: 'inherit' });
  if (dashboard.status !== 0) process.exit(dashboard.status ?? 1);
}

for (const [name, what] of [['TOLLGATE_TEST_DATABASE_URL', 'Postgres suites'], ['TOLLGATE_TEST_REDIS_URL', 'Redis suites (quotas, usage streams)']]) {
  if (process.env.CI === 'true' && !process.env[name]) {
    console.error(`CI=true but ${name} is not set: the ${what} may not be skipped under CI.`);
    process.exit(1);
  }
}
if (!process.env.TOLLGATE_TEST_DATABASE_URL) console.log('# TOLLGATE_TEST_DATABASE_URL not set: Postgres suites are skipped (PGlite suites still run).');
if (!process.env.TOLLGATE_TEST_REDIS_URL) console.log('# TOLLGATE_TEST_REDIS_URL not set: Redis suites (quotas, usage streams) are skipped.');

const run = spawnSync(
  process.execPath,
  // --test-force-exit: a suite that leaves a socket open after a failure must fail, not hang CI.
  // --test-timeout: no single test may run longer than five minutes.
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', '--test-timeout=300000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_NO_WARNINGS: '1' } },
);
process.exit(run.status ?? 1);
