/**
 * @module chain/solidity
 * Compiles Solidity in-process with solc-js and caches each artifact on disk
 * (`node_modules/.cache/tollgate-solc/<sha256>.json`), keyed by the compiler version, the sources
 * and the settings, so only the first test run on a machine pays the few seconds solc-js takes.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Abi, Hex } from 'viem';

const require = createRequire(import.meta.url);

/** One compiled contract: what `deployContract` needs. */
export interface CompiledContract {
  contractName: string;
  abi: Abi;
  bytecode: Hex;
}

export interface CompileOptions {
  /** File name → Solidity source. Imports between them resolve by these names. */
  sources: Record<string, string>;
  /** The contract to return (its name inside the sources). */
  contractName: string;
  /** Where artifacts are cached; defaults to `node_modules/.cache/tollgate-solc`. */
  cacheDir?: string;
}

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
}

const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  // Paris: anvil's default hardfork supports newer opcodes, but Paris keeps the bytecode portable.
  evmVersion: 'paris',
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const;

function solcVersion(): string {
  return (require('solc/package.json') as { version: string }).version;
}

function defaultCacheDir(): string {
  // node_modules/solc/package.json → node_modules/.cache/tollgate-solc
  return join(dirname(dirname(require.resolve('solc/package.json'))), '.cache', 'tollgate-solc');
}

/** Compiles (or loads from the cache) one contract; compiler errors throw with solc's messages. */
export function compileSolidity(options: CompileOptions): CompiledContract {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const key = createHash('sha256')
    .update(JSON.stringify({ solc: solcVersion(), settings: SETTINGS, sources: options.sources, contract: options.contractName }))
    .digest('hex');
  const path = join(cacheDir, `${key}.json`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CompiledContract;
  } catch {
    // A miss (or a torn file from an older run): compile below.
  }
  const compiled = compileUncached(options);
  mkdirSync(cacheDir, { recursive: true });
  // Write then rename: two test files compiling at once must never read half an artifact.
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(compiled));
  renameSync(tmp, path);
  return compiled;
}

function compileUncached({ sources, contractName }: CompileOptions): CompiledContract {
  const solc = require('solc') as { compile(input: string): string };
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(Object.entries(sources).map(([file, content]) => [file, { content }])),
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  for (const file of Object.keys(output.contracts ?? {})) {
    const contract = output.contracts?.[file]?.[contractName];
    if (contract) return { contractName, abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
  }
  throw new Error(`solc: no contract named ${contractName} in ${Object.keys(sources).join(', ')}`);
}
