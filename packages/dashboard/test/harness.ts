/**
 * @module test/harness
 * A real Tollgate server for the dashboard's browser tests: a fresh PGlite database seeded with the
 * demo (org, user, agent, seller, the four demo services on a loopback upstream, an admin key and a
 * grant), the dashboard built and served at `/`, and Debian's chromium driven by playwright-core.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { openTollgate, type Tollgate } from '@tollgate/core';
import { pgliteTestDatabase, type TestDb } from '@tollgate/core/testing';
import { createApp, startServer, type RunningServer, type TollgateApp } from '../../server/src/index.ts';
import { ensureDashboardBuilt } from '../../server/src/dashboard/index.ts';
import { demoUpstreamApp } from '../../server/src/demo/upstreams.ts';
import { seedDemo, type DemoInfo } from '../../server/src/demo/seed.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const OUTPUT_DIR = join(import.meta.dirname, '..', 'test-output');

/** Why the browser suite cannot run here, or undefined. Under CI=true a missing browser is a failure, not a skip. */
export function browserSkip(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  return `${CHROMIUM} is not installed (apt-get install chromium); the dashboard's browser tests are skipped`;
}

export interface DashboardServer {
  url: string;
  tg: Tollgate;
  built: TollgateApp;
  demo: DemoInfo;
  close(): Promise<void>;
}

export async function startDashboardServer(): Promise<DashboardServer> {
  const build = await ensureDashboardBuilt();
  if (build.type === 'unavailable' || build.type === 'failed') throw new Error(`dashboard build ${build.type}: ${build.reason}`);
  const db: TestDb = await pgliteTestDatabase.open();
  const tg = await openTollgate({ db });
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-dashboard-'));
  const credential = `demo_${Date.now()}`;
  let upstream: RunningServer = await startServer(demoUpstreamApp({ credential }) as never, { host: '127.0.0.1', port: 0 });
  const built = createApp({ tg, config: { allowLoopbackUpstreams: true, logLevel: 'silent', lockoutFailuresMax: 1000 } });
  const demo = await seedDemo({ tg, services: built.services, apiKeys: built.apiKeys, upstreamUrl: upstream.url, dir });
  if (demo.upstreamCredential !== credential) {
    const port = upstream.port;
    await upstream.close();
    upstream = await startServer(demoUpstreamApp({ credential: demo.upstreamCredential }) as never, { host: '127.0.0.1', port });
  }
  built.dashboard.demo.enable(demo.adminKey);
  const server = await startServer(built.app, { host: '127.0.0.1', port: 0 });
  return {
    url: server.url, tg, built, demo,
    async close() {
      await built.dashboard.close();
      await server.close();
      await upstream.close();
      await tg.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page screenshot under test-output/screenshots. */
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'tollgate-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 960 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  const shots = join(OUTPUT_DIR, 'screenshots');
  mkdirSync(shots, { recursive: true });
  return {
    context, page,
    async shot(name) {
      const path = join(shots, `${name}.png`);
      // The navigation is sticky: from a scrolled page it would be drawn mid-page.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
