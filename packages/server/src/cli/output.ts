/**
 * @module cli/output
 * How CLI commands print: tables for people, `--json` for scripts, and errors as one helpful
 * sentence (the problem's code and detail, and what to try) with a non-zero exit code.
 */
import { TollgateError, jsonSafe } from '@tollgate/core';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(jsonSafe(value), null, 2)}\n`);
}

/** A plain table: one row per item, the given columns, cells cut at 48 characters. */
export function printTable(rows: readonly Record<string, unknown>[], columns: readonly string[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : typeof v === 'bigint' ? v.toString() : typeof v === 'object' ? JSON.stringify(jsonSafe(v)) : String(v);
    return s.length > 48 ? `${s.slice(0, 47)}…` : s;
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line([...columns])}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => cell(row[c])))}\n`);
}

const HINTS: Partial<Record<string, string>> = {
  unauthorized: 'Set TOLLGATE_API_KEY (or --api-key) to an admin API key; the demo prints one and keeps it in .tollgate/demo-admin-key.',
  locked_out: 'Too many failed attempts from here: wait for the lockout to pass, then use a valid key.',
  forbidden: 'This key\'s role cannot do that; use an admin key.',
  not_found: 'Check the id (list commands show them).',
};

/** Prints an error for people and exits 1. */
export function fail(error: unknown): never {
  if (error instanceof TollgateError) {
    process.stderr.write(`error (${error.code}): ${error.message}\n`);
    const hint = HINTS[error.code];
    if (hint) process.stderr.write(`hint: ${hint}\n`);
  } else if (error instanceof Error && /ECONNREFUSED|fetch failed/.test(`${error.message} ${String((error as { cause?: unknown }).cause)}`)) {
    process.stderr.write(`error: cannot reach the Tollgate server (${error.message}).\nhint: start it with \`npm start\`, or pass --url / TOLLGATE_URL, or --database to work on the database directly.\n`);
  } else {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
}
