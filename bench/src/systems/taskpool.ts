/**
 * taskpool: a server process (workers/taskpool-server.mjs) handing each connection to a
 * worker process, and the client in this process. Five shapes:
 *
 * - `taskpool`: one checkout held for the whole run, calls made on it (sequential when one
 *   is in flight, pipelined otherwise), streams read from it with `co.items(n)`;
 * - `taskpool-hwm256`: the same checkout, streams read with a credit window of 256 items
 *   (`co.stream('items', [n], { highWaterMark: 256 })`) instead of the default 16;
 * - `taskpool-per-call`: checkout, one call, release, for every call;
 * - `taskpool-call`: `client.call(method, args)`, the one-shot form;
 * - `taskpool-map`: `client.map('echo', inputs, { concurrency })`, one one-shot call per
 *   input, the results in input order.
 *
 * The client is loaded from `.build/taskpool-client.mjs`, @taskpool/client bundled from
 * source by build.ts, and only when that package exists; its API is described here by the
 * shape DESIGN section 4 promises rather than imported, so the bench builds without it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundles, workersDir } from '../paths.js';
import { childPids, socketPath, stopChild, waitForReady } from '../proc.js';
import { largeHighWaterMark } from '../workloads.js';
import type { Lease, RunningSystem, StartOptions, System } from './system.js';

/** What a streaming method returns: its items, then the generator's return value. */
interface TaskpoolStream extends AsyncIterable<unknown> {
  readonly result: Promise<unknown>;
}

interface TaskpoolCheckout {
  call(method: string, args: unknown[]): Promise<unknown>;
  serverStats(): Promise<{ starting: number; spares: number }>;
  stream(method: string, args: unknown[], options?: { highWaterMark?: number }): TaskpoolStream;
  /** The worker's `async function* items`, a stream since the worker's hello says so. */
  items(count: number): TaskpoolStream;
  release(): Promise<void> | void;
  readonly pid?: number;
}

interface TaskpoolClient {
  checkout(options?: { timeout?: number | null }): Promise<TaskpoolCheckout>;
  stats(): { idle: number; connecting: number; connectFailures: number };
  call(method: string, args: unknown[]): Promise<unknown>;
  map(
    method: string,
    inputs: Iterable<unknown>,
    options: { concurrency: number },
  ): AsyncIterable<unknown>;
  close(): Promise<void> | void;
}

interface TaskpoolClientModule {
  createClient(options: {
    /** One endpoint, or several (checkout-servers): each connection goes to one of them. */
    connect: string | string[];
    minWorkers: number;
    maxWorkers: number;
    tls?: { ca: { file: string } };
    auth?: { keyId: string; key: string };
    metrics?: boolean;
  }): TaskpoolClient;
}

type Shape = 'one-checkout' | 'per-call' | 'client-call' | 'map';

/**
 * How the client reaches the server: its Unix socket (every row but the transport rows),
 * or loopback TCP plain, over TLS (a certificate made with openssl for the run), or with
 * shared-secret authentication.
 */
type Transport = 'unix' | 'tcp' | 'tls' | 'tcp-auth';

/** The key of the tcp-auth rows: made up for the run, as the certificate is. */
const BENCH_AUTH_KEY = 'bench-only-shared-secret';

/** A self-signed certificate for 127.0.0.1 in `dir` (the run's private directory). */
function makeCertificate(dir: string): { key: string; cert: string } {
  const key = join(dir, 'bench-tls.key');
  const cert = join(dir, 'bench-tls.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { key, cert };
}

let clientModule: Promise<TaskpoolClientModule> | undefined;

export function loadClient(): Promise<TaskpoolClientModule> {
  clientModule ??= import(
    pathToFileURL(bundles.taskpoolClient).href
  ) as Promise<TaskpoolClientModule>;
  return clientModule;
}

/** The server, and how the client connects to it. */
export interface StartedServer {
  server: ChildProcess;
  endpoint: string;
  clientOptions: Pick<Parameters<TaskpoolClientModule['createClient']>[0], 'tls' | 'auth'>;
}

/** Where a TCP server listens and how many workers it may run, when not the defaults. */
interface ServerSettings {
  /**
   * The loopback address of a TCP server (a plaintext listener beyond loopback is refused,
   * and the bench reaches nothing beyond this machine).
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * The server's `maxWorkers` (serving and spare).
   * @default the server's own (64)
   */
  maxWorkers?: number;
}

/**
 * Starts workers/taskpool-server.mjs listening on `transport` (TCP on `host`), with
 * `maxWorkers` when given, and resolves once it says where it listens and that it is ready.
 */
export async function startServer(
  options: StartOptions,
  transport: Transport,
  { host = '127.0.0.1', maxWorkers }: ServerSettings = {},
): Promise<StartedServer> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TASKPOOL_BENCH_LISTEN:
      transport === 'unix'
        ? `unix:${socketPath(options.socketDir, 'taskpool')}`
        : `tcp://${host}:0`,
    TASKPOOL_BENCH_SPARES: String(options.workers),
    ...(maxWorkers === undefined ? {} : { TASKPOOL_BENCH_MAX_WORKERS: String(maxWorkers) }),
  };
  let clientOptions: StartedServer['clientOptions'] = {};
  if (transport === 'tls') {
    const { key, cert } = makeCertificate(options.socketDir);
    env.TASKPOOL_BENCH_TLS_KEY = key;
    env.TASKPOOL_BENCH_TLS_CERT = cert;
    clientOptions = { tls: { ca: { file: cert } } };
  } else if (transport === 'tcp-auth') {
    env.TASKPOOL_BENCH_AUTH_KEY = BENCH_AUTH_KEY;
    clientOptions = { auth: { keyId: 'bench', key: BENCH_AUTH_KEY } };
  }
  const server = spawn(
    process.execPath,
    [...process.execArgv, `${workersDir}taskpool-server.mjs`],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    },
  );
  const said = await waitForReady(server);
  const endpoint = /^listening (\S+)$/m.exec(said)?.[1];
  if (endpoint === undefined)
    throw new Error(`the taskpool server did not say where it listens: ${said}`);
  return { server, endpoint, clientOptions };
}

async function startTaskpool(
  options: StartOptions,
  shape: Shape,
  {
    highWaterMark,
    transport = 'unix',
    metrics = true,
  }: { highWaterMark?: number; transport?: Transport; metrics?: boolean } = {},
): Promise<RunningSystem> {
  const { createClient } = await loadClient();
  const { server, endpoint, clientOptions } = await startServer(options, transport);
  const client = createClient({
    connect: endpoint,
    minWorkers: options.workers,
    maxWorkers: options.workers,
    ...clientOptions,
    metrics,
  });
  const pids = new Set<number>();
  const seen = (checkout: TaskpoolCheckout) => {
    if (typeof checkout.pid === 'number') pids.add(checkout.pid);
    return checkout;
  };

  // one-checkout: taken on the first call, so start() costs the same in every shape.
  let held: TaskpoolCheckout | undefined;
  let holding: Promise<TaskpoolCheckout> | undefined;
  const hold = (): Promise<TaskpoolCheckout> => {
    holding ??= client.checkout().then((checkout) => {
      held = seen(checkout);
      return checkout;
    });
    return holding;
  };
  const onHeld = (method: string, args: unknown[]): Promise<unknown> => {
    if (held) return held.call(method, args);
    return hold().then((checkout) => checkout.call(method, args));
  };

  // Streams are read from the held checkout, as a user reads one: for await, then result.
  const stream = async (count: number, onItem: (item: unknown) => void): Promise<unknown> => {
    const checkout = held ?? (await hold());
    const items =
      highWaterMark === undefined
        ? checkout.items(count)
        : checkout.stream('items', [count], { highWaterMark });
    for await (const item of items) onItem(item);
    return items.result;
  };

  const checkout = async (): Promise<Lease> => {
    const leased = seen(await client.checkout());
    return {
      echo: (value) => leased.call('echo', [value]),
      release: async () => {
        await leased.release();
      },
    };
  };

  const perCall = async (method: string, args: unknown[]): Promise<unknown> => {
    const leased = seen(await client.checkout());
    try {
      return await leased.call(method, args);
    } finally {
      await leased.release();
    }
  };

  const call =
    shape === 'one-checkout'
      ? onHeld
      : shape === 'per-call'
        ? perCall
        : (method: string, args: unknown[]) => client.call(method, args);

  /**
   * Waits until the client holds its workers and the server has started the spares that
   * replace them, asking the server for its stats through a checkout every 10 ms (10 s at
   * most).
   */
  const settle = async (): Promise<void> => {
    const deadline = performance.now() + 10_000;
    for (;;) {
      const checkout = await client.checkout();
      let stats: { starting: number; spares: number };
      try {
        stats = await checkout.serverStats();
      } finally {
        await checkout.release();
      }
      const { idle } = client.stats();
      if (stats.starting === 0 && stats.spares >= options.workers && idle >= options.workers) {
        return;
      }
      if (performance.now() > deadline) {
        throw new Error(`taskpool did not settle in 10 s: ${JSON.stringify({ stats, idle })}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  return {
    settle,
    echo: (value) => call('echo', [value]),
    hash: (password, salt) => call('hash', [password, salt]),
    ...(shape === 'per-call' ? { checkout } : {}),
    ...(shape === 'one-checkout' ? { stream } : {}),
    ...(shape === 'map'
      ? { map: (inputs, concurrency) => client.map('echo', inputs, { concurrency }) }
      : {}),
    // Workers that served a checkout; failing that (no `pid` on checkouts), every child
    // of the server, spares included.
    workerPids: async () => (pids.size > 0 ? [...pids] : childPids(server.pid ?? -1)),
    close: async () => {
      try {
        if (holding) await (await holding).release();
        await client.close();
      } finally {
        await stopChild(server, 'SIGTERM', 5_000);
      }
    },
  };
}

const everyProcess = { family: 'taskpool', isolation: 'process' } as const;

export const taskpoolSystems: System[] = [
  {
    ...everyProcess,
    name: 'taskpool',
    shape:
      'one checkout held for the run; calls sequential or pipelined on it; streams read with co.items(n) (highWaterMark 16, the default)',
    workloads: [
      'echo-seq',
      'echo-pipelined',
      'echo-10k',
      'stream-items',
      'cold-start',
      'idle-memory',
    ],
    start: (options) => startTaskpool(options, 'one-checkout'),
  },
  {
    ...everyProcess,
    name: `taskpool-hwm${largeHighWaterMark}`,
    shape: `one checkout held for the run; streams read with co.stream('items', [n], { highWaterMark: ${largeHighWaterMark} })`,
    workloads: ['stream-items'],
    start: (options) =>
      startTaskpool(options, 'one-checkout', { highWaterMark: largeHighWaterMark }),
  },
  {
    ...everyProcess,
    name: 'taskpool-per-call',
    shape: 'checkout, one call, release, for every call',
    workloads: ['echo-seq', 'checkout-churn'],
    start: (options) => startTaskpool(options, 'per-call'),
  },
  {
    ...everyProcess,
    name: 'taskpool-call',
    shape: "client.call('echo', [value]): a one-shot checkout per call",
    workloads: ['echo-seq', 'echo-pipelined', 'echo-10k', 'bcrypt', 'call-memory'],
    start: (options) => startTaskpool(options, 'client-call'),
  },
  {
    ...everyProcess,
    name: 'taskpool-map',
    shape:
      "client.map('echo', inputs, { concurrency }): a one-shot checkout per input, results in input order",
    workloads: ['map-echo'],
    start: (options) => startTaskpool(options, 'map'),
  },
  // The metrics rows: the same shapes with the client's metrics off; their ratios are the
  // cost of recording (the budget: under 3%).
  {
    ...everyProcess,
    name: 'taskpool-nometrics',
    shape: 'one checkout held for the run, client created with metrics: false',
    workloads: ['echo-seq', 'echo-pipelined'],
    start: (options) => startTaskpool(options, 'one-checkout', { metrics: false }),
  },
  {
    ...everyProcess,
    name: 'taskpool-call-nometrics',
    shape: "client.call('echo', [value]), client created with metrics: false",
    workloads: ['echo-seq', 'echo-pipelined'],
    start: (options) => startTaskpool(options, 'client-call', { metrics: false }),
  },
  // The transport rows: one checkout, as the `taskpool` row, over loopback TCP; their
  // ratios to taskpool-tcp are the cost of TLS and of authentication.
  {
    ...everyProcess,
    name: 'taskpool-tcp',
    shape: 'one checkout held for the run, over plain TCP on 127.0.0.1',
    workloads: ['echo-seq', 'echo-pipelined'],
    start: (options) => startTaskpool(options, 'one-checkout', { transport: 'tcp' }),
  },
  {
    ...everyProcess,
    name: 'taskpool-tls',
    shape: 'one checkout held for the run, over TLS 1.3 on 127.0.0.1 (terminated in the worker)',
    workloads: ['echo-seq', 'echo-pipelined'],
    start: (options) => startTaskpool(options, 'one-checkout', { transport: 'tls' }),
  },
  {
    ...everyProcess,
    name: 'taskpool-tcp-auth',
    shape: 'one checkout held for the run, over TCP on 127.0.0.1 with shared-secret auth',
    workloads: ['echo-seq', 'echo-pipelined'],
    start: (options) => startTaskpool(options, 'one-checkout', { transport: 'tcp-auth' }),
  },
];

/** Loads the client module ahead of timing (cold-start measures start(), not imports). */
export async function prepareTaskpool(): Promise<void> {
  await loadClient();
}
