/**
 * @module test/support/redis
 * Real Redis for the suites that need it, and a gate in front of it that a test can close and
 * open, to take Redis away mid-test and bring it back. Without `TOLLGATE_TEST_REDIS_URL` a Redis
 * suite skips with a message; under `CI=true` a missing URL is a failure.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { openRedis, redisReady } from '../../src/redis.ts';

export function redisTestUrl(): string | undefined {
  return process.env.TOLLGATE_TEST_REDIS_URL || undefined;
}

/** Why the Redis suites skip here, or undefined when they run. */
export function redisSkip(): string | undefined {
  if (redisTestUrl()) return undefined;
  if (process.env.CI === 'true') throw new Error('CI=true requires TOLLGATE_TEST_REDIS_URL: the Redis suites may not be skipped in CI');
  return 'TOLLGATE_TEST_REDIS_URL is not set (no Redis server here)';
}

/** A ready connection to the test Redis. */
export async function connectTestRedis(): Promise<Redis> {
  const redis = openRedis(redisTestUrl()!);
  if (!(await redisReady(redis))) throw new Error(`the test Redis at ${redisTestUrl()} did not become ready`);
  return redis;
}

/** A key prefix no other test run uses. */
export function testKeyPrefix(): string {
  return `tgtest:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/** A TCP proxy to Redis on a port of its own; `close()` cuts every connection and refuses new ones until `open()`. */
export class TcpGate {
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  port = 0;
  constructor(readonly target: { host: string; port: number }) {}

  static forUrl(url: string): TcpGate {
    const parsed = new URL(url);
    return new TcpGate({ host: parsed.hostname, port: Number(parsed.port || 6379) });
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
