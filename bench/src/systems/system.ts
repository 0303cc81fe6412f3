/**
 * The one interface every benchmarked system implements. A system is one row of the
 * table: a pool library (or the raw ceiling) used in one shape. Every call returns what
 * the worker sent back, unchecked: the workloads check it.
 */
import type { WorkloadName } from '../workloads.js';

export interface StartOptions {
  /** Worker processes (or threads) the pool may use. */
  workers: number;
  /** A private directory for Unix sockets; removed by the runner. */
  socketDir: string;
}

/** An exclusive hold on one worker, for the checkout-churn workload. */
export interface Lease {
  echo(value: unknown): Promise<unknown>;
  release(): Promise<void>;
}

export interface RunningSystem {
  /** One echo round trip, in this system's shape. */
  echo(value: unknown): Promise<unknown>;
  /** bcryptjs `hashSync(password, salt)` in a worker. */
  hash(password: string, salt: string): Promise<unknown>;
  /**
   * stream-items: one stream of `count` items (`smallPayload(0..count-1)`) from a worker.
   * `onItem` sees each item as it is read (a throw stops the stream and rejects); resolves
   * with the worker's end value, `{ count }`. Present on systems that stream.
   */
  stream?(count: number, onItem: (item: unknown) => void): Promise<unknown>;
  /**
   * map-echo: one echo per input, at most `concurrency` in flight, the results in input
   * order. Present on systems with a map of their own; the others run their `echo`.
   */
  map?(inputs: readonly unknown[], concurrency: number): AsyncIterable<unknown>;
  /** Present when the system has leases of its own; otherwise one task is one lease. */
  checkout?(): Promise<Lease>;
  /**
   * Resolves once every process the system starts on its own has started (taskpool's
   * server starts replacement spares when the client takes its workers), so that none
   * starts during the timed calls. Absent when the system starts nothing by itself.
   */
  settle?(): Promise<void>;
  /**
   * Figures of the system's own about the run so far, added to the run's extras
   * (checkout-servers: how the checkouts spread over the servers). Absent when it has none.
   */
  extras?(): Record<string, number>;
  /** Process ids of the workers that served calls; empty for threads. */
  workerPids(): Promise<number[]>;
  /** Stops every worker; resolves once they are gone. */
  close(): Promise<void>;
}

export interface System {
  /** Row name, also what `--only` matches (with `family`). */
  name: string;
  family: 'raw' | 'piscina' | 'tinypool' | 'workerpool' | 'taskpool';
  /** What a worker is, and how calls map onto workers, for the legend. */
  shape: string;
  isolation: 'process' | 'thread';
  workloads: readonly WorkloadName[];
  start(options: StartOptions): Promise<RunningSystem>;
}
