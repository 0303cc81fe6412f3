/**
 * What each workload measures and with how much work: shared by the orchestrator (which
 * prints and compares) and the children (which run them, see measure.ts).
 */

export const workloadNames = [
  'echo-seq',
  'echo-pipelined',
  'checkout-churn',
  'echo-10k',
  'stream-items',
  'map-echo',
  'bcrypt',
  'cold-start',
  'idle-memory',
] as const;

export type WorkloadName = (typeof workloadNames)[number];

/**
 * The workloads made of single calls, which every system can run: stream-items needs
 * streams, and map-echo compares pools (the raw ceiling has no map).
 */
export const callWorkloads: readonly WorkloadName[] = workloadNames.filter(
  (name) => name !== 'stream-items' && name !== 'map-echo',
);

/** The amount of work of one run of a workload in one child. */
export interface WorkloadParams {
  /** Measured calls (or checkouts, or hashes). */
  calls: number;
  /** Untimed calls first, with the same concurrency, so every worker is up and warm. */
  warmup: number;
  /** Calls in flight (or checkouts waiting) at a time. */
  inFlight: number;
  workers: number;
  /** cold-start: fresh starts per child. idle-memory: milliseconds left idle. */
  samples?: number;
  settleMs?: number;
}

interface Extra {
  key: string;
  label: string;
  unit: string;
}

export interface WorkloadSpec {
  name: WorkloadName;
  title: string;
  /** Unit of the primary figure. */
  unit: string;
  better: 'higher' | 'lower';
  /** Row the ratio column divides by; `node` is the bare child of idle-memory. */
  baseline: string;
  extras: readonly Extra[];
  /** Printed under the table: what the table leaves out, and how the rows differ. */
  notes?: readonly string[];
  full: WorkloadParams;
  quick: WorkloadParams;
}

export const bcryptCost = 10;
/** Calls in flight in map-echo, as in the other 64-in-flight workloads. */
const mapConcurrency = 64;
/** highWaterMark of the `taskpool-hwm256` row of stream-items (the client's default is 16). */
export const largeHighWaterMark = 256;
/** The bare `node` child of idle-memory is shown as a row of its own under this name. */
export const bareNodeRow = 'node (bare)';

export const workloads: Record<WorkloadName, WorkloadSpec> = {
  'echo-seq': {
    name: 'echo-seq',
    title: 'sequential round trips of a ~100-byte JSON object, 2 workers',
    unit: 'calls/s',
    better: 'higher',
    baseline: 'raw',
    extras: [
      { key: 'p50', label: 'p50', unit: 'µs' },
      { key: 'p99', label: 'p99', unit: 'µs' },
    ],
    full: { calls: 2_000, warmup: 300, inFlight: 1, workers: 2 },
    quick: { calls: 300, warmup: 50, inFlight: 1, workers: 2 },
  },
  'echo-pipelined': {
    name: 'echo-pipelined',
    title: '~100-byte echoes, 64 in flight, 2 workers',
    unit: 'calls/s',
    better: 'higher',
    baseline: 'raw-pipelined',
    extras: [],
    full: { calls: 20_000, warmup: 1_000, inFlight: 64, workers: 2 },
    quick: { calls: 2_000, warmup: 200, inFlight: 64, workers: 2 },
  },
  'checkout-churn': {
    name: 'checkout-churn',
    title: 'one-call checkouts, 64 waiting at a time, 2 workers',
    unit: 'checkouts/s',
    better: 'higher',
    baseline: 'raw',
    extras: [],
    full: { calls: 5_000, warmup: 500, inFlight: 64, workers: 2 },
    quick: { calls: 800, warmup: 100, inFlight: 64, workers: 2 },
  },
  'echo-10k': {
    name: 'echo-10k',
    title: 'echoes of a 10,000-character string, 16 in flight, 2 workers',
    unit: 'calls/s',
    better: 'higher',
    baseline: 'raw-pipelined',
    extras: [],
    full: { calls: 2_000, warmup: 200, inFlight: 16, workers: 2 },
    quick: { calls: 300, warmup: 50, inFlight: 16, workers: 2 },
  },
  'stream-items': {
    name: 'stream-items',
    title: 'one stream of ~100-byte JSON items from one worker, each checked as it is read',
    unit: 'items/s',
    better: 'higher',
    baseline: 'raw-pipelined',
    extras: [],
    notes: [
      `the taskpool rows read co.items(n) (highWaterMark 16, the default) and co.stream('items', [n], { highWaterMark: ${largeHighWaterMark} }) on one checkout; raw-pipelined's worker writes the n frames, 64 to a write, as fast as its socket drains, with no flow control`,
      'piscina, tinypool and workerpool have no streams: they have no row here',
    ],
    // calls: items in the timed stream; warmup: items in one untimed stream before it.
    full: { calls: 200_000, warmup: 20_000, inFlight: 1, workers: 2 },
    quick: { calls: 20_000, warmup: 2_000, inFlight: 1, workers: 2 },
  },
  'map-echo': {
    name: 'map-echo',
    title: `~100-byte echoes over a list of inputs, concurrency ${mapConcurrency}, 2 workers`,
    unit: 'calls/s',
    better: 'higher',
    baseline: 'workerpool',
    extras: [],
    notes: [
      `taskpool-map: client.map('echo', inputs, { concurrency: ${mapConcurrency} }), each result checked against its input in the order yielded`,
      `the pools: pool.run / pool.exec of every input, at most ${mapConcurrency} in flight (the bench's bounded driver, as in echo-pipelined), each result checked against its input`,
      'raw has no map and no pool: it has no row here',
    ],
    full: { calls: 20_000, warmup: 1_000, inFlight: mapConcurrency, workers: 2 },
    quick: { calls: 2_000, warmup: 200, inFlight: mapConcurrency, workers: 2 },
  },
  bcrypt: {
    name: 'bcrypt',
    title: `bcryptjs hashes at cost ${bcryptCost}, all queued at once, on 2 workers and on 1`,
    unit: 'hashes/s',
    better: 'higher',
    baseline: 'raw',
    extras: [
      { key: 'oneWorker', label: '1 worker', unit: 'hashes/s' },
      { key: 'scaling', label: '2w/1w', unit: '×' },
    ],
    full: { calls: 40, warmup: 4, inFlight: 40, workers: 2 },
    quick: { calls: 8, warmup: 2, inFlight: 8, workers: 2 },
  },
  'cold-start': {
    name: 'cold-start',
    title: 'from creating the pool (server + client) to the first result, fresh each time',
    unit: 'ms',
    better: 'lower',
    baseline: 'raw',
    extras: [],
    full: { calls: 1, warmup: 0, inFlight: 1, workers: 2, samples: 5 },
    quick: { calls: 1, warmup: 0, inFlight: 1, workers: 2, samples: 2 },
  },
  'idle-memory': {
    name: 'idle-memory',
    title: 'RSS of one idle worker after 20 calls, next to a bare `node` child',
    unit: 'MB',
    better: 'lower',
    baseline: bareNodeRow,
    extras: [],
    full: { calls: 20, warmup: 0, inFlight: 2, workers: 2, settleMs: 1_000 },
    quick: { calls: 20, warmup: 0, inFlight: 2, workers: 2, settleMs: 500 },
  },
};
