/**
 * Runs one job in a fresh child process (.build/child.mjs) in a process group of its own,
 * with a deadline. Afterwards the whole group is checked and killed: a system that leaves
 * processes behind after close() is reported, and nothing outlives the bench.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildJob, ChildReply } from './child.js';
import type { RunResult } from './measure.js';
import { bundles } from './paths.js';
import { groupMembers } from './proc.js';

export interface JobOutcome {
  result?: RunResult;
  error?: string;
  /** Processes of the child's group still alive after it exited. */
  leftovers: string[];
}

const running = new Set<number>();

/**
 * The children's environment: ours without NODE_EXTRA_CA_CERTS, which makes every node
 * process load a CA file at start-up (about 30 ms here). tinypool's child processes get an
 * empty environment and never pay it, so keeping it would time the environment, not the
 * pools.
 */
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => name !== 'NODE_EXTRA_CA_CERTS'),
);

export interface JobOptions {
  timeoutMs: number;
  /**
   * Write a .cpuprofile per process here: the child runs with `--cpu-prof`, and the servers
   * it starts (and their workers, and tinypool's and workerpool's) inherit its execArgv.
   */
  cpuProfDir?: string | undefined;
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

/** Kills every child group still running (on SIGINT/SIGTERM of the bench, and at exit). */
export function killAllGroups(): void {
  for (const pgid of running) killGroup(pgid);
}
process.once('exit', killAllGroups);

/** What became of a child run in its own process group. */
export interface GroupRun<TReply> {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last message the child sent over IPC, if any. */
  reply: TReply | undefined;
  timedOut: boolean;
  /** The end of the child's stdout and stderr, prefixed by a newline, or ''. */
  tail: string;
  /** Processes of the child's group still alive a second after it exited (then killed). */
  leftovers: string[];
}

/**
 * Forks `script` with `args` in a process group of its own, with a deadline; keeps the end
 * of its output and its last IPC message; afterwards reports and kills whatever is left in
 * its group.
 */
export async function runInGroup<TReply>(
  script: string,
  args: string[],
  options: JobOptions,
): Promise<GroupRun<TReply>> {
  const child = fork(script, args, {
    execArgv: options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : [],
    env: childEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const pgid = child.pid ?? -1;
  running.add(pgid);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let reply: TReply | undefined;
  child.on('message', (message) => {
    reply = message as TReply;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(pgid);
  }, options.timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    child.once('error', () => resolve([null, null]));
  });
  clearTimeout(timer);

  // Give workers that were told to stop a moment to go, then see what is left.
  let leftovers = groupMembers(pgid);
  for (let waited = 0; leftovers.length > 0 && waited < 1_000; waited += 50) {
    await sleep(50);
    leftovers = groupMembers(pgid);
  }
  killGroup(pgid);
  running.delete(pgid);
  return {
    code,
    signal,
    reply,
    timedOut,
    tail: output.trim() ? `\n${output.trim()}` : '',
    leftovers: leftovers.map((p) => `${p.pid} ${p.command}`),
  };
}

export async function runJob(
  spec: Omit<ChildJob, 'socketDir'>,
  options: JobOptions,
): Promise<JobOutcome> {
  // Made here, not in the child, so that it goes even when the child crashes.
  const socketDir = mkdtempSync(join(tmpdir(), 'tpbench-'));
  const job: ChildJob = { ...spec, socketDir };
  const run = await runInGroup<ChildReply>(bundles.child, [JSON.stringify(job)], options);
  rmSync(socketDir, { recursive: true, force: true });
  const { reply, tail } = run;
  const outcome: JobOutcome = { leftovers: run.leftovers };
  if (run.timedOut) outcome.error = `no result within ${options.timeoutMs / 1_000} s${tail}`;
  else if (!reply)
    outcome.error = `child exited (${run.code ?? run.signal}) without a result${tail}`;
  else if (!reply.ok) outcome.error = reply.error;
  else outcome.result = reply.result;
  return outcome;
}
