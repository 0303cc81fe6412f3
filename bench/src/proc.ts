/**
 * Process plumbing for the systems and the runner: waiting for a socket, stopping a child
 * with a deadline, and reading RSS and children from /proc (Linux).
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Resolves once `child` writes a line `ready` on its stdout (a pipe), which the bench's
 * servers do once they accept connections, with what it wrote until then; rejects if it
 * exits first or the deadline passes. The rest of its stdout is drained and dropped.
 */
export function waitForReady(child: ChildProcess, timeoutMs = 10_000): Promise<string> {
  const stdout = child.stdout;
  if (!stdout) return Promise.reject(new Error("waitForReady needs the child's stdout piped"));
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (error?: Error) => {
      clearTimeout(timer);
      stdout.off('data', onData);
      child.off('exit', onExit);
      stdout.resume();
      if (error) reject(error);
      else resolve(seen);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (/^ready$/m.test(seen)) done();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      done(new Error(`process ${child.pid} exited (${code ?? signal}) before it was ready`));
    const timer = setTimeout(
      () => done(new Error(`process ${child.pid} not ready within ${timeoutMs} ms`)),
      timeoutMs,
    );
    stdout.on('data', onData);
    child.on('exit', onExit);
  });
}

/** Resolves when the child has exited; `signal` first, SIGKILL after `timeoutMs`. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 5_000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Resident set size in kB, from /proc/PID/status; NaN when the process is gone. */
export function rssKb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match?.[1] ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** What /proc/PID/stat says of a live process. */
export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  /** Start time in ticks since boot: with the pid, names the process across pid reuse. */
  start: string;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

/** /proc/PID/stat of `pid`, or undefined when it is gone or a zombie. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return {
      pid,
      ppid: Number(fields[1]),
      pgrp: Number(fields[2]),
      start: fields[19] ?? '',
      ticks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined; // the process ended while we looked
  }
}

/** Every live process, as /proc/PID/stat says. */
export function allProcStats(): ProcStat[] {
  const all: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat) all.push(stat);
  }
  return all;
}

/** Live direct children of `ppid`. */
export function childPids(ppid: number): number[] {
  return allProcStats()
    .filter((stat) => stat.ppid === ppid)
    .map((stat) => stat.pid);
}

/** Live processes in process group `pgid` (a detached child's descendants), with commands. */
export function groupMembers(pgid: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const { pid, pgrp } of allProcStats()) {
    if (pgrp !== pgid) continue;
    try {
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      found.push({ pid, command });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

let sockets = 0;

/** A fresh socket path in `dir`: a pool started twice in one child never reuses one. */
export function socketPath(dir: string, name: string): string {
  return join(dir, `${name}-${++sockets}.sock`);
}
