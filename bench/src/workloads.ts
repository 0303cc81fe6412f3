/**
 * What each workload measures and with how much work: shared by the orchestrator (which
 * prints and compares) and the children (which run them, see measure.ts).
 */

export const workloadNames = [
  'echo-seq',
  'echo-pipelined',
  'checkout-churn',
  'checkout-servers',
  'echo-10k',
  'stream-items',
  'map-echo',
  'bcrypt',
  'cold-start',
  'idle-memory',
  'call-memory',
] as const;

export type WorkloadName = (typeof workloadNames)[number];

/** Run only when named: too long for the default run (minutes for call-memory). */
const optInWorkloads: readonly WorkloadName[] = ['call-memory'];

/** What `npm run bench` runs when no workload is named. */
export const defaultWorkloads: readonly WorkloadName[] = workloadNames.filter(
  (name) => !optInWorkloads.includes(name),
);

/**
 * The workloads made of single calls, which every system can run: stream-items needs
 * streams, map-echo compares pools (the raw ceiling has no map), checkout-servers compares
 * taskpool with one server and with three behind one client (the others have no servers),
 * and call-memory is about `client.call` alone.
 */
export const callWorkloads: readonly WorkloadName[] = defaultWorkloads.filter(
  (name) => name !== 'stream-items' && name !== 'map-echo' && name !== 'checkout-servers',
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
  /** call-memory: calls before the first reading. */
  checkpoint?: number;
}

interface Extra {
  key: string;
  label: string;
  unit: string;
  /** The column's header, when not `label (unit)`. */
  header?: string;
  /** Also show this extra over the baseline row's, in a column `label × baseline`. */
  vsBaseline?: boolean;
}

export interface WorkloadSpec {
  name: WorkloadName;
  title: string;
  /** Unit of the primary figure. */
  unit: string;
  better: 'higher' | 'lower';
  /**
   * Row the ratio column divides by; `node` is the bare child of idle-memory. None: no
   * ratio column (call-memory has one row).
   */
  baseline?: string;
  extras: readonly Extra[];
  /** Printed under the table: what the table leaves out, and how the rows differ. */
  notes?: readonly string[];
  full: WorkloadParams;
  quick: WorkloadParams;
  /** The child's deadline, when not the default (120 s, 60 s with --quick). */
  deadlineMs?: number;
}

export const bcryptCost = 10;
/** Calls in flight in map-echo, as in the other 64-in-flight workloads. */
const mapConcurrency = 64;
/** highWaterMark of the `taskpool-hwm256` row of stream-items (the client's default is 16). */
export const largeHighWaterMark = 256;
/** The bare `node` child of idle-memory is shown as a row of its own under this name. */
export const bareNodeRow = 'node (bare)';

/** CPU time of every process of the run per timed call (cpu.ts), and over the baseline's. */
const cpuPerCall: Extra = {
  key: 'cpuUsPerCall',
  label: 'CPU',
  unit: 'µs/call',
  header: 'CPU µs/call',
  vsBaseline: true,
};
const cpuNote =
  'CPU µs/call: user + system time of every process of the run (the bench child, servers, workers, pool children) over the timed calls, from /proc schedstat, per call';

/** Worker columns of call-memory: the server's children (2 workers and 2 spares). */
const memoryWorkerColumns = 4;

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
      cpuPerCall,
    ],
    notes: [cpuNote],
    full: { calls: 2_000, warmup: 300, inFlight: 1, workers: 2 },
    quick: { calls: 300, warmup: 50, inFlight: 1, workers: 2 },
  },
  'echo-pipelined': {
    name: 'echo-pipelined',
    title: '~100-byte echoes, 64 in flight, 2 workers',
    unit: 'calls/s',
    better: 'higher',
    baseline: 'raw-pipelined',
    extras: [cpuPerCall],
    notes: [cpuNote],
    full: { calls: 20_000, warmup: 1_000, inFlight: 64, workers: 2 },
    quick: { calls: 2_000, warmup: 200, inFlight: 64, workers: 2 },
  },
  'checkout-churn': {
    name: 'checkout-churn',
    title: 'one-call checkouts, 64 waiting at a time, 2 workers',
    unit: 'checkouts/s',
    better: 'higher',
    baseline: 'raw',
    extras: [cpuPerCall],
    notes: [cpuNote],
    full: { calls: 5_000, warmup: 500, inFlight: 64, workers: 2 },
    quick: { calls: 800, warmup: 100, inFlight: 64, workers: 2 },
  },
  // What the ratio can show on one machine: the cost of spreading one client's checkouts over
  // three servers (three supervisors, three times the workers and connections, and the
  // picker), as throughput and as CPU per checkout. What it cannot show: scale-out. The three
  // servers share this machine's cores with each other and with the client (2 cores here),
  // so three times the workers is not three times the CPU, and on loopback no network is
  // added or divided; a ratio near 1 means spreading costs little, not that three servers
  // would not be faster on three machines.
  'checkout-servers': {
    name: 'checkout-servers',
    title:
      'one-call checkouts, 64 waiting at a time, one client over 1 server and over 3 (2 workers each)',
    unit: 'checkouts/s',
    better: 'higher',
    baseline: 'taskpool-1-server',
    extras: [cpuPerCall, { key: 'busiestShare', label: 'busiest server', unit: '%' }],
    notes: [
      "both rows: plain TCP on loopback (127.0.0.2, and .3 and .4 for the three servers); each server maxWorkers 2 (both started as spares before the client connects), the client minWorkers = maxWorkers = the servers' total (2 or 6)",
      'taskpool-3-servers: a static list in connect, each new connection to the server this client has the fewest connections to (discover would pick by the room each server announces); no registry (forkTaskServer takes none)',
      'the timing starts once all 6 connections are open, 2 on each server (connectFailures in the JSON says whether a start had to retry)',
      "the three servers share this machine's cores with each other and the client: the ratio is the cost of spreading one client over three servers, not the gain of scaling out to three machines",
      "busiest server: the share of the checkouts (warm-up included) that the busiest server's workers served; 100 with one server, 33 when three share evenly",
      cpuNote,
    ],
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
  'call-memory': {
    name: 'call-memory',
    title:
      "RSS of the client (at the end) and of each worker process over 1,000,000 one-shot client.call('echo') calls (100,000 with --quick), 64 in flight, 2 workers",
    unit: 'MB',
    better: 'lower',
    extras: [
      { key: 'clientMb10k', label: 'client 10k', unit: 'MB' },
      { key: 'clientGrowth', label: 'client end/10k', unit: '×' },
      ...Array.from({ length: memoryWorkerColumns }, (_, i) => [
        { key: `worker${i + 1}Mb10k`, label: `w${i + 1} 10k`, unit: 'MB' },
        { key: `worker${i + 1}Mb`, label: `w${i + 1} end`, unit: 'MB' },
      ]).flat(),
      { key: 'workerGrowth', label: 'largest worker end/10k', unit: '×' },
      { key: 'callsPerSecond', label: 'calls/s', unit: 'calls/s', header: 'calls/s' },
    ],
    notes: [
      "the primary figure is the bench child's RSS (process.memoryUsage().rss) after the last call; `10k`: after the first 10,000 calls",
      'w1…w4: VmRSS of each child of the taskpool server (the workers that served and the spares), numbered by pid; the growth is that of the largest at the end',
      'only taskpool-call runs it (a question about the client and its workers): the other systems have no row, and there is no ratio column; run it by name, it is not in the default set',
    ],
    full: { calls: 1_000_000, warmup: 0, inFlight: 64, workers: 2, checkpoint: 10_000 },
    quick: { calls: 100_000, warmup: 0, inFlight: 64, workers: 2, checkpoint: 10_000 },
    // 1,000,000 calls at ~5,000 a second is over 3 minutes.
    deadlineMs: 15 * 60_000,
  },
};
