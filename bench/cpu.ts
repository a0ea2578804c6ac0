/**
 * bench/cpu.ts — CPU time a benchmark spent, split between this Node process and the PostgreSQL
 * backends of its pool (read from /proc, so the server must run on this machine). Per-cycle CPU is
 * what a 2-core box runs out of; unlike throughput it barely moves when other work shares the machine.
 */
import { readFileSync } from 'node:fs';
import type { Db } from '@tollgate/core';

/** The connection string with an application_name that marks this benchmark's backends. */
export function taggedUrl(url: string, name: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}application_name=${name}`;
}

function backendTicks(pid: number): number {
  try {
    // Fields after the command name: state is field 3, utime 14 and stime 15.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

export interface CpuSpent {
  nodeMs: number;
  /** NaN when the server's processes are not visible from here. */
  postgresMs: number;
}

/** Starts counting; the returned function stops and reports. */
export async function cpuMeter(db: Db, name: string): Promise<() => Promise<CpuSpent>> {
  const pids = async () => (await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [name])).map((r) => Number(r.pid));
  const before = new Map((await pids()).map((pid) => [pid, backendTicks(pid)]));
  const node = process.cpuUsage();
  return async () => {
    const used = process.cpuUsage(node);
    let ticks = 0;
    let visible = false;
    for (const pid of new Set([...before.keys(), ...(await pids())])) {
      const now = backendTicks(pid);
      if (now > 0) visible = true;
      ticks += now - (before.get(pid) ?? 0);
    }
    return { nodeMs: (used.user + used.system) / 1000, postgresMs: visible ? ticks * 10 : Number.NaN };
  };
}
