/**
 * @module server
 * Listens with @hono/node-server. Returns the bound address and a `close()` that stops accepting,
 * lets running calls finish (they settle as they end) and then resolves.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AppEnv } from './env.ts';

export interface RunningServer {
  server: ServerType;
  port: number;
  host: string;
  url: string;
  close(): Promise<void>;
}

export async function startServer(app: Hono<AppEnv>, options: { host?: string; port?: number } = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, (info: AddressInfo) => {
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        server,
        port: info.port,
        host,
        url: `http://${shown}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // Keep-alive sockets would hold close() open; idle ones are dropped now.
            (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
          }),
      });
    });
    server.once('error', reject);
  });
}
