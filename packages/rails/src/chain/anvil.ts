/**
 * @module chain/anvil
 * Starts Foundry's anvil (from the `@foundry-rs/anvil` npm package) on a free port and stops it with
 * the process: a test that forgets `stop()` or dies must not leave a chain running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** How long anvil may take to print its address before the start counts as failed. */
export const ANVIL_START_TIMEOUT_MS = 15_000;

export interface AnvilOptions {
  chainId?: number;
  /** Seconds between blocks; default: a block per transaction (automine), the fastest for tests. */
  blockTimeSeconds?: number;
}

export interface AnvilProcess {
  rpcUrl: string;
  stop(): Promise<void>;
}

/** The platform binary that `@foundry-rs/anvil` installs as an optional dependency. */
export function anvilBinaryPath(): string {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];
  if (!arch) throw new Error(`anvil: no binary for ${process.platform}/${process.arch}`);
  const launcher = createRequire(require.resolve('@foundry-rs/anvil/package.json'));
  const pkg = launcher.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`);
  return join(dirname(pkg), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous; kill() is.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** Starts anvil on 127.0.0.1 with an OS-chosen port and resolves once it accepts requests. */
export async function startAnvil(options: AnvilOptions = {}): Promise<AnvilProcess> {
  installExitHook();
  const args = ['--host', '127.0.0.1', '--port', '0', '--accounts', '0', '--chain-id', String(options.chainId ?? 31337)];
  if (options.blockTimeSeconds !== undefined) args.push('--block-time', String(options.blockTimeSeconds));
  const child = spawn(anvilBinaryPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  // The test process may end without calling stop(): the child must not keep it alive.
  child.unref();
  const rpcUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`anvil did not start within ${ANVIL_START_TIMEOUT_MS} ms: ${out}`)), ANVIL_START_TIMEOUT_MS);
    function fail(error: Error): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    }
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const match = /Listening on ([\d.]+:\d+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve(`http://${match[1]}`);
    };
    const onExit = (code: number | null): void => fail(new Error(`anvil exited with ${code}: ${out}`));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', fail);
    child.once('exit', onExit);
  });
  // anvil logs every request: keep draining its output so a full pipe never stalls the chain.
  child.stdout?.resume();
  child.stderr?.removeAllListeners('data');
  child.stderr?.resume();
  (child.stdout as unknown as { unref?: () => void })?.unref?.();
  (child.stderr as unknown as { unref?: () => void })?.unref?.();
  return {
    rpcUrl,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        // Held while it exits: an unref'd child alone would let the event loop end first.
        child.ref();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
