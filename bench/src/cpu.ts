/**
 * CPU time spent by every process of a bench run, read from /proc (Linux) around a timed
 * section: the bench child itself and every process it started (servers, workers, pool
 * children), found as the members of its process group plus its descendants.
 *
 * Why schedstat: utime and stime in /proc/PID/stat count clock ticks (100 a second here,
 * `getconf CLK_TCK`) and are charged by sampling at each tick, so a section of a few hundred
 * milliseconds spread over five processes is off by up to 10 ms a process: as much as the
 * whole figure at tens of µs a call. The first field of /proc/PID/task/TID/schedstat is the
 * thread's run time in nanoseconds, which the scheduler adds up at every switch. It is
 * summed over the threads (a process's own /proc/PID/schedstat is its main thread's alone).
 * Where the kernel shows no schedstat, stat's ticks are used for every process instead.
 *
 * A process counts from its first snapshot: one seen only at the end counts from 0, and
 * one gone (or a zombie) by the end is not counted, as is a thread that ended in between.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { allProcStats, type ProcStat, procStat } from './proc.js';

/** Run time of every thread of `pid` in ns, or undefined if the process is gone. */
function schedstatNs(pid: number): number | undefined {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const line = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
        total += Number(line.slice(0, line.indexOf(' ')));
      } catch {
        // the thread ended while we looked
      }
    }
  } catch {
    return undefined;
  }
  return total;
}

/** Whether this kernel keeps schedstat (it shows `0 0 0` with scheduler statistics off). */
const useSchedstat = (() => {
  try {
    return Number(readFileSync('/proc/self/schedstat', 'utf8').split(' ')[0]) > 0;
  } catch {
    return false;
  }
})();

let ticksPerSecond: number | undefined;

function nsPerTick(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    } catch {
      ticksPerSecond = Number.NaN;
    }
    if (!(ticksPerSecond > 0)) ticksPerSecond = 100;
  }
  return 1e9 / ticksPerSecond;
}

/** CPU time of one process, in ns. */
function cpuNs(stat: ProcStat): number | undefined {
  return useSchedstat ? schedstatNs(stat.pid) : stat.ticks * nsPerTick();
}

/** This process's group and descendants, itself excluded. */
function runProcesses(self: ProcStat): ProcStat[] {
  const all = allProcStats().filter((stat) => stat.pid !== self.pid);
  const group = self.pgrp === self.pid ? self.pgrp : undefined;
  const ours = new Set<number>([self.pid]);
  const children = new Map<number, ProcStat[]>();
  for (const stat of all) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat]);
  const found: ProcStat[] = [];
  const visit = (stat: ProcStat) => {
    if (ours.has(stat.pid)) return;
    ours.add(stat.pid);
    found.push(stat);
    for (const child of children.get(stat.pid) ?? []) visit(child);
  };
  for (const child of children.get(self.pid) ?? []) visit(child);
  for (const stat of all) if (stat.pgrp === group) visit(stat);
  return found;
}

type Snapshot = Map<string, number>;

const key = (stat: ProcStat) => `${stat.pid}:${stat.start}`;

function selfStat(): ProcStat {
  const stat = procStat(process.pid);
  if (!stat) throw new Error('cannot read /proc for this process');
  return stat;
}

function addProcess(snapshot: Snapshot, stat: ProcStat): void {
  const ns = cpuNs(stat);
  if (ns !== undefined) snapshot.set(key(stat), ns);
}

interface CpuSpent {
  /** CPU time of the run's processes between the two snapshots, in ns. */
  ns: number;
  /** Processes counted (this one included). */
  processes: number;
  /** Processes seen at the start and gone at the end: their time in between is lost. */
  gone: number;
}

/**
 * Snapshots the CPU time of this process and every process of its run; `stop()` snapshots
 * again and returns what they spent in between. The start reads this process last and the
 * stop reads it first, so the scans of /proc are (nearly) left out of the figure.
 */
export function startCpuMeter(): { stop(): CpuSpent } {
  const self = selfStat();
  const before: Snapshot = new Map();
  for (const stat of runProcesses(self)) addProcess(before, stat);
  addProcess(before, selfStat());
  return {
    stop() {
      const after: Snapshot = new Map();
      addProcess(after, selfStat());
      for (const stat of runProcesses(self)) addProcess(after, stat);
      let ns = 0;
      for (const [name, end] of after) ns += end - (before.get(name) ?? 0);
      const gone = [...before.keys()].filter((name) => !after.has(name)).length;
      return { ns, processes: after.size, gone };
    },
  };
}

/** The extras of a timed section of `calls` calls: CPU µs a call, and what was counted. */
export function cpuExtras(spent: CpuSpent, calls: number): Record<string, number> {
  return {
    cpuUsPerCall: spent.ns / 1_000 / calls,
    cpuProcesses: spent.processes,
    cpuProcessesGone: spent.gone,
  };
}
