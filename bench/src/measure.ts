/**
 * The workloads as run inside one child process against one system. Each returns its
 * primary figure (and extras); every reply is checked against what was sent, and a wrong
 * one throws, failing the run.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcryptjs';
import { cpuExtras, startCpuMeter } from './cpu.js';
import {
  bcryptPassword,
  bcryptSalt,
  bigPayload,
  checkBig,
  checkSmall,
  checkStreamEnd,
  type SmallPayload,
  smallPayload,
} from './payloads.js';
import { rssKb, stopChild } from './proc.js';
import { median, quantile, spread } from './stats.js';
import type { RunningSystem, System } from './systems/system.js';
import { bcryptCost, type WorkloadName, type WorkloadParams } from './workloads.js';

interface RunContext {
  socketDir: string;
  /** 0-based repetition, to alternate orders inside a child (bcrypt's 2 and 1 workers). */
  rep: number;
  /** The right answer for each bcrypt hash, by index (computed once by the orchestrator). */
  bcryptExpected: readonly string[];
}

export interface RunResult {
  /** The primary figure of this run. */
  value: number;
  /** Individual observations of the primary figure, when a run makes several. */
  samples?: number[];
  extras: Record<string, number>;
}

/** Runs `call(0..total-1)` with at most `inFlight` pending at a time. */
async function drive(
  total: number,
  inFlight: number,
  call: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < total) await call(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
}

async function withSystem<T>(
  system: System,
  workers: number,
  context: RunContext,
  body: (running: RunningSystem) => Promise<T>,
): Promise<T> {
  const running = await system.start({ workers, socketDir: context.socketDir });
  try {
    // Start-up is cold-start's figure (which does not come here): the timed calls of the
    // other workloads begin once the system has started all it starts by itself.
    await running.settle?.();
    return await body(running);
  } finally {
    await running.close();
  }
}

/**
 * Timed throughput of `call` over `params.calls`, after an untimed warm-up; with `cpu`, also
 * the CPU time per call of every process of the run over the timed section (cpu.ts).
 */
async function throughput(
  params: WorkloadParams,
  call: (index: number) => Promise<void>,
  options: { cpu?: boolean } = {},
): Promise<RunResult> {
  await drive(params.warmup, params.inFlight, (i) => call(1_000_000 + i));
  const cpu = options.cpu ? startCpuMeter() : undefined;
  const started = performance.now();
  await drive(params.calls, params.inFlight, call);
  const value = params.calls / ((performance.now() - started) / 1_000);
  return { value, extras: cpu ? cpuExtras(cpu.stop(), params.calls) : {} };
}

const echoSmall = (running: RunningSystem) => async (id: number) => {
  const sent = smallPayload(id);
  checkSmall(sent, await running.echo(sent));
};

async function echoSeq(system: System, params: WorkloadParams, context: RunContext) {
  return withSystem(system, params.workers, context, async (running) => {
    const echo = echoSmall(running);
    for (let i = 0; i < params.warmup; i++) await echo(1_000_000 + i);
    const latencies = new Float64Array(params.calls);
    const cpu = startCpuMeter();
    const started = performance.now();
    for (let i = 0; i < params.calls; i++) {
      const sent = smallPayload(i);
      const before = performance.now();
      const got = await running.echo(sent);
      latencies[i] = performance.now() - before;
      checkSmall(sent, got);
    }
    const seconds = (performance.now() - started) / 1_000;
    const spent = cpu.stop();
    const values = [...latencies];
    return {
      value: params.calls / seconds,
      extras: {
        p50: quantile(values, 0.5) * 1_000,
        p99: quantile(values, 0.99) * 1_000,
        ...cpuExtras(spent, params.calls),
      },
    };
  });
}

async function echoPipelined(system: System, params: WorkloadParams, context: RunContext) {
  return withSystem(system, params.workers, context, (running) =>
    throughput(params, echoSmall(running), { cpu: true }),
  );
}

async function checkoutChurn(system: System, params: WorkloadParams, context: RunContext) {
  return withSystem(system, params.workers, context, async (running) => {
    const checkout = running.checkout?.bind(running);
    const echo = echoSmall(running);
    const once = checkout
      ? async (id: number) => {
          const lease = await checkout();
          try {
            const sent = smallPayload(id);
            checkSmall(sent, await lease.echo(sent));
          } finally {
            await lease.release();
          }
        }
      : echo;
    const result = await throughput(params, once, { cpu: true });
    return { ...result, extras: { ...result.extras, ...running.extras?.() } };
  });
}

async function echoTenK(system: System, params: WorkloadParams, context: RunContext) {
  return withSystem(system, params.workers, context, (running) =>
    throughput(params, async (id) => {
      const sent = bigPayload(id);
      checkBig(sent, await running.echo(sent));
    }),
  );
}

/** Reads one stream of `count` items, checking each in order, then the count and its end. */
async function readStream(running: RunningSystem, count: number): Promise<void> {
  if (!running.stream) throw new Error('this system has no streams');
  let read = 0;
  const end = await running.stream(count, (item) => {
    checkSmall(smallPayload(read), item);
    read++;
  });
  checkStreamEnd(count, read, end);
}

async function streamItems(system: System, params: WorkloadParams, context: RunContext) {
  return withSystem(system, params.workers, context, async (running) => {
    await readStream(running, params.warmup);
    const started = performance.now();
    await readStream(running, params.calls);
    return { value: params.calls / ((performance.now() - started) / 1_000), extras: {} };
  });
}

/**
 * Echoes of every input, at most `concurrency` in flight: through the system's own map
 * (results checked in the order it yields them, which must be input order), or else its
 * echo driven by the bench (each result checked against the input of its index).
 */
async function mapInputs(
  running: RunningSystem,
  inputs: readonly SmallPayload[],
  concurrency: number,
): Promise<void> {
  if (running.map) {
    let index = 0;
    for await (const got of running.map(inputs, concurrency)) {
      const sent = inputs[index++];
      if (!sent) throw new Error(`map yielded more than its ${inputs.length} inputs`);
      checkSmall(sent, got);
    }
    if (index !== inputs.length) {
      throw new Error(`map yielded ${index} results for ${inputs.length} inputs`);
    }
    return;
  }
  await drive(inputs.length, concurrency, async (index) => {
    const sent = inputs[index] as SmallPayload;
    checkSmall(sent, await running.echo(sent));
  });
}

async function mapEcho(system: System, params: WorkloadParams, context: RunContext) {
  const inputs = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => smallPayload(from + i));
  return withSystem(system, params.workers, context, async (running) => {
    await mapInputs(running, inputs(1_000_000, params.warmup), params.inFlight);
    const timed = inputs(0, params.calls);
    const started = performance.now();
    await mapInputs(running, timed, params.inFlight);
    return { value: params.calls / ((performance.now() - started) / 1_000), extras: {} };
  });
}

async function hashes(
  system: System,
  workers: number,
  params: WorkloadParams,
  context: RunContext,
): Promise<number> {
  return withSystem(system, workers, context, async (running) => {
    // Warm-up at cost 4 (about 1 ms a hash), checked the slow way since there are few.
    await drive(params.warmup, params.warmup, async (i) => {
      const password = bcryptPassword(i);
      const got = await running.hash(password, bcryptSalt(i, 4));
      if (typeof got !== 'string' || !bcrypt.compareSync(password, got)) {
        throw new Error(`bad warm-up hash ${i}: ${String(got)}`);
      }
    });
    const started = performance.now();
    await drive(params.calls, params.inFlight, async (i) => {
      const got = await running.hash(bcryptPassword(i), bcryptSalt(i, bcryptCost));
      const expected = context.bcryptExpected[i];
      if (expected === undefined) throw new Error(`no expected hash for ${i}`);
      if (got !== expected) throw new Error(`wrong hash ${i}: ${String(got)} != ${expected}`);
    });
    return params.calls / ((performance.now() - started) / 1_000);
  });
}

async function bcryptWorkload(system: System, params: WorkloadParams, context: RunContext) {
  const order = context.rep % 2 === 0 ? [params.workers, 1] : [1, params.workers];
  const rates = new Map<number, number>();
  for (const workers of order) rates.set(workers, await hashes(system, workers, params, context));
  const many = rates.get(params.workers) ?? Number.NaN;
  const one = rates.get(1) ?? Number.NaN;
  return { value: many, extras: { oneWorker: one, scaling: many / one } };
}

async function coldStart(system: System, params: WorkloadParams, context: RunContext) {
  const samples: number[] = [];
  for (let i = 0; i < (params.samples ?? 1); i++) {
    await sleep(100); // let the previous pool's processes finish exiting
    const started = performance.now();
    const running = await system.start({ workers: params.workers, socketDir: context.socketDir });
    try {
      const sent = smallPayload(i);
      const got = await running.echo(sent);
      samples.push(performance.now() - started);
      checkSmall(sent, got);
    } finally {
      await running.close();
    }
  }
  return { value: median(samples), samples, extras: {} };
}

async function idleMemory(system: System, params: WorkloadParams, context: RunContext) {
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], {
    stdio: 'ignore',
  });
  try {
    return await withSystem(system, params.workers, context, async (running) => {
      await drive(params.calls, params.inFlight, echoSmall(running));
      const pids = (await running.workerPids()).filter((pid) => pid !== bare.pid);
      if (pids.length === 0) throw new Error('no worker process to measure');
      await sleep(params.settleMs ?? 1_000);
      const workerMb = pids.map((pid) => rssKb(pid) / 1_024);
      const bareMb = rssKb(bare.pid ?? -1) / 1_024;
      if (workerMb.some(Number.isNaN) || Number.isNaN(bareMb)) {
        throw new Error('a measured process exited while idle');
      }
      const { min, max } = spread(workerMb);
      return {
        value: median(workerMb),
        extras: { bareMb, workers: pids.length, minMb: min, maxMb: max },
      };
    });
  } finally {
    await stopChild(bare, 'SIGKILL');
  }
}

/** RSS in MB of each of `pids` still running, by pid. */
function rssMbOf(pids: readonly number[]): Map<number, number> {
  const found = new Map<number, number>();
  for (const pid of pids) {
    const kb = rssKb(pid);
    if (!Number.isNaN(kb)) found.set(pid, kb / 1_024);
  }
  return found;
}

/**
 * Memory over many one-shot calls: RSS of this process (the client) and of each worker
 * process (every child of the taskpool server, as workerPids() finds them: spares too)
 * after the first `checkpoint` calls and at the end. Workers are numbered by pid, so a
 * worker's two readings share a number; one that came or went has one reading only.
 */
async function callMemory(system: System, params: WorkloadParams, context: RunContext) {
  const checkpoint = Math.min(params.checkpoint ?? 10_000, params.calls);
  return withSystem(system, params.workers, context, async (running) => {
    const echo = echoSmall(running);
    const clientMb = () => process.memoryUsage.rss() / 2 ** 20;
    const started = performance.now();
    await drive(checkpoint, params.inFlight, echo);
    const clientEarly = clientMb();
    const workersEarly = rssMbOf(await running.workerPids());
    await drive(params.calls - checkpoint, params.inFlight, (i) => echo(checkpoint + i));
    const seconds = (performance.now() - started) / 1_000;
    const clientEnd = clientMb();
    const workersEnd = rssMbOf(await running.workerPids());
    if (workersEarly.size === 0 || workersEnd.size === 0) {
      throw new Error('no worker process to measure');
    }
    const extras: Record<string, number> = {
      clientMb10k: clientEarly,
      clientGrowth: clientEnd / clientEarly,
      workers: workersEnd.size,
      callsPerSecond: params.calls / seconds,
    };
    const pids = [...new Set([...workersEarly.keys(), ...workersEnd.keys()])].sort((a, b) => a - b);
    for (const [i, pid] of pids.entries()) {
      const early = workersEarly.get(pid);
      const end = workersEnd.get(pid);
      if (early !== undefined) extras[`worker${i + 1}Mb10k`] = early;
      if (end !== undefined) extras[`worker${i + 1}Mb`] = end;
    }
    const [largest, largestMb] = [...workersEnd].sort((a, b) => b[1] - a[1])[0] ?? [];
    const largestEarly = largest === undefined ? undefined : workersEarly.get(largest);
    if (largestMb !== undefined) extras.workerMaxMb = largestMb;
    if (largestMb !== undefined && largestEarly !== undefined) {
      extras.workerGrowth = largestMb / largestEarly;
    }
    return { value: clientEnd, extras };
  });
}

type Runner = (system: System, params: WorkloadParams, context: RunContext) => Promise<RunResult>;

export const runners: Record<WorkloadName, Runner> = {
  'echo-seq': echoSeq,
  'echo-pipelined': echoPipelined,
  'checkout-churn': checkoutChurn,
  // The same checkouts; the rows differ in the servers behind the client.
  'checkout-servers': checkoutChurn,
  'echo-10k': echoTenK,
  'stream-items': streamItems,
  'map-echo': mapEcho,
  bcrypt: bcryptWorkload,
  'cold-start': coldStart,
  'idle-memory': idleMemory,
  'call-memory': callMemory,
};
