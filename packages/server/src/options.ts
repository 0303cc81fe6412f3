/**
 * Options of `createServer`, with their defaults and validation.
 *
 * @module
 */
import {
  DEFAULT_MAX_FRAME_BYTES,
  type EndpointInput,
  InvalidOptionError,
  parseOptions,
} from '@taskpool/protocol';
import { z } from 'zod';
import type { WorkerDefinition } from './worker-definition.js';

/** Options of {@link createServer}. */
export interface ServerOptions extends Partial<WorkerDefinition> {
  /**
   * Where to listen: `unix:/path` (or an absolute path, or `{ path }`) or `tcp://host:port`
   * (or `{ host, port }`; the host defaults to 127.0.0.1; port 0 picks a free one).
   * @example listen: 'unix:/tmp/taskpool.sock'
   */
  listen: EndpointInput;
  /**
   * A module whose default export is the worker's code (`defineWorker({ interface, … })`).
   * Without it, workers re-execute this process's entry script in worker mode, as
   * `node:cluster` does, so a single-file server works: there `createServer` serves the
   * handed-over connection instead of listening.
   * @default the entry script (`process.argv[1]`)
   * @example workerModule: new URL('./hasher-worker.js', import.meta.url)
   */
  workerModule?: string | URL;
  /**
   * The name shown in process titles (`taskpool-server:NAME`, `taskpool-worker:NAME(N)`) and
   * sent in `hello`.
   * @default null
   * @example name: 'passwd-hasher'
   */
  name?: string;
  /**
   * Warm workers kept started (code loaded, `setup` run) so that a new connection is handed
   * over at once.
   * @default 2
   * @example spares: 4
   */
  spares?: number;
  /**
   * The most live worker processes (serving and spare). A connection beyond it waits up to
   * `connectionTimeout` for a worker to exit, then is refused with `SERVER_BUSY`.
   * @default 64
   * @example maxWorkers: 8
   */
  maxWorkers?: number;
  /**
   * How long an accepted connection may wait for a worker before it is refused.
   * @default 10_000 (ms)
   * @example connectionTimeout: 2_000
   */
  connectionTimeout?: number;
  /**
   * Calls a worker serves before it retires: it finishes the checkout it is in, tells the
   * client (a `retire` frame, no error) and exits. `null` = never.
   * @default null
   * @example maxRequestsPerWorker: 1_000
   */
  maxRequestsPerWorker?: number | null;
  /**
   * The least time between two worker spawns, and between two retirements in a rolling
   * restart (SIGHUP). 0 = no limit.
   * @default 0 (ms)
   * @example spawnInterval: 500
   */
  spawnInterval?: number;
  /**
   * A worker whose event loop stays blocked this long is killed (its client sees
   * `WORKER_LOST`). Idle workers are never killed. `null` = never.
   * @default 300_000 (ms)
   * @example hungWorkerTimeout: 30_000
   */
  hungWorkerTimeout?: number | null;
  /**
   * File mode of a Unix socket.
   * @default 0o600
   * @example socketMode: 0o660
   */
  socketMode?: number;
  /**
   * The largest frame a worker accepts or sends, in bytes.
   * @default 16 MiB
   * @example maxFrameBytes: 1024 * 1024
   */
  maxFrameBytes?: number;
  /**
   * Node.js options for worker processes.
   * @default process.execArgv
   * @example execArgv: ['--max-old-space-size=256']
   */
  execArgv?: string[];
  /**
   * Environment of worker processes.
   * @default process.env
   * @example env: { ...process.env, DB_PATH: '/var/lib/app.sqlite3' }
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Close gracefully on SIGTERM and SIGINT, and restart workers onto fresh code on SIGHUP.
   * The handlers are removed on close.
   * @default true
   * @example handleSignals: false
   */
  handleSignals?: boolean;
}

const ms = z.number().int().nonnegative();

const schema = z.object({
  listen: z.union([z.string(), z.object({}).passthrough()]),
  interface: z.unknown().optional(),
  setup: z.function().optional(),
  checkoutDone: z.function().optional(),
  workerModule: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
  name: z.string().optional(),
  spares: z.number().int().nonnegative().default(2),
  maxWorkers: z.number().int().positive().default(64),
  connectionTimeout: ms.default(10_000),
  maxRequestsPerWorker: z.number().int().positive().nullable().default(null),
  spawnInterval: ms.default(0),
  hungWorkerTimeout: z.number().int().positive().nullable().default(300_000),
  socketMode: z.number().int().min(0).max(0o777).default(0o600),
  maxFrameBytes: z.number().int().positive().default(DEFAULT_MAX_FRAME_BYTES),
  execArgv: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string().optional()).optional(),
  handleSignals: z.boolean().default(true),
});

export type ResolvedServerOptions = z.output<typeof schema>;

/** Validates server options and fills in defaults. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const resolved = parseOptions('createServer', schema, options);
  if (resolved.interface === undefined && resolved.workerModule === undefined) {
    throw new InvalidOptionError(
      'createServer: option "interface": expected handlers, an implementation or a function (or a workerModule), received nothing',
    );
  }
  return resolved;
}
