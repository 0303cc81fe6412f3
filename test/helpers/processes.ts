/**
 * Process helpers for tests: start real servers, and look at processes through /proc.
 *
 * Server processes run the JavaScript build that the test setup makes of the sources at
 * the start of every run (see test/build-for-children.ts), so they start as fast as a
 * user's would, with plain `node` and no TypeScript loader.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type * as Server from '@taskpool/server';
import { onTestFailed } from 'vitest';

/** `@taskpool/server` as built for child processes. */
export const builtServer = (await import(
  new URL('../../packages/server/dist/index.js', import.meta.url).href
)) as typeof Server;

/**
 * A package's test fixture as bundled for child processes by the test setup.
 * @example fixtureOf('client', 'scenario-worker.ts')
 */
export function fixtureOf(pkg: string, name: string): URL {
  const file = `${name.replace(/\.ts$/, '')}.mjs`;
  return new URL(`../../packages/${pkg}/test/fixtures/.built/${file}`, import.meta.url);
}

/**
 * Starts a real server process on a fresh Unix socket, serving a worker module. What the
 * server and its workers write to stderr (a hung worker killed on purpose, a stack a test
 * provokes) is kept, and printed only if the test fails, so a passing suite stays quiet.
 */
export async function startServerWith(
  module: URL,
  options: Omit<Server.ForkServerOptions, 'module'> = {},
): Promise<Server.ForkedServer> {
  const server = await builtServer.forkTaskServer({
    execArgv: [],
    spares: 1,
    stderr: 'pipe',
    ...options,
    module,
  });
  const output: Buffer[] = [];
  server.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  try {
    onTestFailed(() => {
      if (output.length > 0) process.stderr.write(Buffer.concat(output));
    });
  } catch {
    // Started outside a test (in a beforeAll hook): its output goes with no test's failure.
  }
  return server;
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

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** True while a process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    return (
      existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')
    );
  } catch {
    return false;
  }
}

/**
 * Live (not zombie) processes whose environment holds `TASKPOOL_TEST_MARK=<mark>`: a test
 * puts a mark in the environment of the processes it starts (workers inherit it), and
 * after it finds here what it left running.
 */
export function marked(mark: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (environ.includes(`TASKPOOL_TEST_MARK=${mark}\0`) && isAlive(Number(entry))) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
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

/** CPU time a process has used (user + system), in ms: proof that it is busy in a handler. */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
