/**
 * Process helpers for the server's tests: start real servers from source, and look at
 * processes through /proc.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type ForkServerOptions, forkTaskServer } from '@taskpool/server';

/** Node options that run the packages from source (TypeScript, no build). */
export const SOURCE_EXEC_ARGV = ['--conditions=taskpool-source', '--import', 'tsx'];

export function fixture(name: string): URL {
  return new URL(`../fixtures/${name}`, import.meta.url);
}

/** Starts a real server process on a fresh Unix socket. */
export function startServer(module: string, options: Omit<ForkServerOptions, 'module'> = {}) {
  return forkTaskServer({
    execArgv: SOURCE_EXEC_ARGV,
    spares: 1,
    ...options,
    module: fixture(module),
  });
}

/** Child pids of a process, with their state letter (Z = zombie). */
export function childrenOf(pid: number): { pid: number; state: string; cmdline: string }[] {
  const children: { pid: number; state: string; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== pid) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      children.push({ pid: Number(entry), state: fields[0] ?? '?', cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function isAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
}

/** Polls `check` until it returns true, or throws after `timeout` ms. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeout = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
