/**
 * What the queue bench's processes agree on: the systems (BullMQ and taskpool's three
 * modes), the rows (a system on the single Redis, or on the Redis Cluster), the workloads,
 * one figure's job description, and the two sides every system implements (a producer in
 * the measuring process, a consumer in a child process).
 */
import type { QueueMode } from '@taskpool/redis';

/** A system: BullMQ, or @taskpool/redis in one mode. */
export type QueueSystemName = 'bullmq' | `taskpool-${QueueMode}`;

const queueSystems: readonly QueueSystemName[] = [
  'bullmq',
  'taskpool-simple',
  'taskpool-recoverable',
  'taskpool-reliable',
];

/**
 * The parts of the queue bench, by the workload name that asks for it: `queue` (BullMQ and
 * every taskpool mode on the single Redis) and `queue-cluster` (the {@link clusterModes} on
 * a 3-master Redis Cluster, each next to the same mode on the single Redis).
 */
export const queueParts = ['queue', 'queue-cluster'] as const;

export type QueuePart = (typeof queueParts)[number];

/**
 * The modes run on the cluster. The default mode only, to keep the default run short (each
 * mode adds a figure per workload and repetition); any of the three works there.
 */
const clusterModes: readonly QueueMode[] = ['reliable'];

/** Where a row's Redis is: the single server, or the 3-master cluster. */
export type QueueBackend = 'single' | 'cluster';

/** A row of the tables: one system on one backend. */
export interface QueueRowSpec {
  /** The system's name on the single Redis; `<system>-cluster` on the cluster. */
  name: string;
  system: QueueSystemName;
  backend: QueueBackend;
}

/**
 * The rows the parts ask for, in table order: the systems of `queue`, and for
 * `queue-cluster` each cluster mode's row right after the same mode on the single Redis
 * (which `queue-cluster` alone adds too: it is what the cluster row is compared with).
 */
export function queueRows(parts: readonly QueuePart[]): QueueRowSpec[] {
  const cluster = parts.includes('queue-cluster');
  return queueSystems.flatMap((system): QueueRowSpec[] => {
    const single: QueueRowSpec = { name: system, system, backend: 'single' };
    if (!(cluster && clusterModes.some((mode) => system === `taskpool-${mode}`))) {
      return parts.includes('queue') ? [single] : [];
    }
    return [single, { name: `${system}-cluster`, system, backend: 'cluster' }];
  });
}

type QueueWorkloadName = 'await-c1' | 'await-c32' | 'drain';

export interface QueueWorkload {
  name: QueueWorkloadName;
  title: string;
  /** Timed jobs. */
  jobs: number;
  /** Jobs in flight while submitting and awaiting (for the drain, only in its warm-up). */
  concurrency: number;
  /** Untimed submit-and-await jobs first, through the same consumer, to warm both ends up. */
  warmup: number;
}

export const queueWorkloads: readonly QueueWorkload[] = [
  {
    name: 'await-c1',
    title: 'submit-and-await, 1 in flight',
    jobs: 500,
    concurrency: 1,
    warmup: 100,
  },
  {
    name: 'await-c32',
    title: 'submit-and-await, 32 in flight',
    jobs: 5_000,
    concurrency: 32,
    warmup: 500,
  },
  {
    name: 'drain',
    title: 'bulk drain: 10,000 jobs queued first, then one consumer works them all',
    jobs: 10_000,
    concurrency: 32,
    warmup: 500,
  },
];

/** Jobs one consumer works at once, in every workload and every system. */
export const consumerConcurrency = 32;

/** A node of a Redis Cluster, as ioredis's `Cluster` takes its startup nodes. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Where one figure's queue lives: a prefix no other figure uses. */
export interface QueueTarget {
  /** The single Redis's URL, or the startup nodes of the Redis Cluster (taskpool only). */
  redis: string | readonly RedisNode[];
  prefix: string;
  name: string;
}

/** One figure: one system on one workload, measured in a fresh producer process. */
export interface FigureJob {
  system: QueueSystemName;
  workload: QueueWorkload;
  target: QueueTarget;
}

export interface FigureResult {
  /** Timed jobs per second (results received and checked by the submitter). */
  jobsPerSecond: number;
  seconds: number;
  /** Drain only: jobs per second of the bulk enqueue, before any worker ran. */
  enqueuePerSecond?: number;
  /** Jobs the consumer ran (warm-up included): must equal the jobs submitted. */
  processed: number;
  /**
   * CPU time per timed job, in microseconds: the submitter process, the consumer process,
   * and redis-server (server-wide `INFO cpu`, so other clients of a shared REDIS_URL count;
   * on the cluster, the sum over its masters).
   */
  cpu: { submitter: number; worker: number; redis: number };
}

export type FigureReply = { ok: true; result: FigureResult } | { ok: false; error: string };

/** Producer → consumer. */
export type ToConsumer = { type: 'pause' } | { type: 'go' } | { type: 'cpu' } | { type: 'close' };

/** Consumer → producer. */
export type FromConsumer =
  | { type: 'ready' }
  /** `cpu`: the consumer process's CPU time so far, in microseconds. */
  | { type: 'paused'; cpu: number }
  | { type: 'cpu'; cpu: number }
  | { type: 'closed'; processed: number }
  | { type: 'error'; error: string };

/** The job: its input `n`; the handler returns `n + 1`, and the submitter checks it. */
export interface JobData {
  n: number;
}

/** The submitting side of a system, in the measuring process. */
export interface Producer {
  /** Submits one job and waits for its result. */
  run(n: number): Promise<number>;
  /**
   * Queues a job for each input at once (the system's bulk API, or its pipelined submit),
   * resolving once Redis has them all; `results` resolves with their results in order.
   */
  enqueue(inputs: readonly number[]): Promise<{ results: Promise<number[]> }>;
  /** Jobs waiting in Redis. */
  waiting(): Promise<number>;
  close(): Promise<void>;
}

/** The working side, in its own process: runs `n + 1` for every job. */
export interface Consumer {
  /** Starts a worker with {@link consumerConcurrency}; resolves once it is connected. */
  start(): Promise<void>;
  /** Stops the worker (letting running jobs finish). */
  stop(): Promise<void>;
  /** Jobs run so far, over every worker started. */
  readonly processed: number;
  close(): Promise<void>;
}
