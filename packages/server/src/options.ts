/**
 * Options of `createServer`, with their defaults and validation.
 *
 * @module
 */
import {
  DEFAULT_MAX_FRAME_BYTES,
  type EndpointInput,
  InvalidOptionError,
  MAX_TIMER_MS,
} from '@taskpool/protocol';
import { invalidOption } from '@taskpool/protocol/internal';
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
   * `WORKER_LOST`). Idle workers are never killed. The supervisor watches with a monotonic
   * clock, and each worker also watches itself from a thread, so a hung worker is killed
   * even when its supervisor is gone. `null` = never.
   * @default 300_000 (ms)
   * @example hungWorkerTimeout: 30_000
   */
  hungWorkerTimeout?: number | null;
  /**
   * How long a worker's `setup` may take, at start and when it is retried before a call.
   * Past it, setup counts as failed: the call gets `SETUP_FAILED` ("setup did not finish
   * within …"). A worker that has not even reported ready `setupTimeout` + 10 s after it
   * was spawned (code that blocks while it loads) is killed and counted as a crash.
   * `null` = no limit.
   * @default 60_000 (ms)
   * @example setupTimeout: 5_000
   */
  setupTimeout?: number | null;
  /**
   * Calls a worker holds received but not started (pipelined behind the one running).
   * Past it, the worker stops reading its connection until it has run some of them, so the
   * client's further calls wait in the socket (TCP backpressure) instead of in the
   * worker's memory.
   * @default 1_024
   * @example maxQueuedCalls: 64
   */
  maxQueuedCalls?: number;
  /**
   * How long one frame may take to arrive once its first byte has: a peer that sends a
   * frame a byte a second cannot hold a worker. Past it the connection is closed with
   * `PROTOCOL_ERROR`.
   * @default 30_000 (ms)
   * @example frameTimeout: 5_000
   */
  frameTimeout?: number;
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

/** Options after validation, with defaults filled in. */
export interface ResolvedServerOptions {
  listen: string | Record<string, unknown>;
  interface?: unknown;
  setup?: WorkerDefinition['setup'];
  checkoutDone?: WorkerDefinition['checkoutDone'];
  workerModule?: string | URL;
  name?: string;
  spares: number;
  maxWorkers: number;
  connectionTimeout: number;
  maxRequestsPerWorker: number | null;
  spawnInterval: number;
  hungWorkerTimeout: number | null;
  setupTimeout: number | null;
  maxQueuedCalls: number;
  frameTimeout: number;
  socketMode: number;
  maxFrameBytes: number;
  execArgv?: string[];
  env?: Record<string, string | undefined>;
  handleSignals: boolean;
}

/*
 * The checks are written out rather than declared with zod, because every worker runs
 * createServer too (a single-file server is re-executed in worker mode) and a worker
 * should not load zod for it. Each check returns what zod says of the first problem, so
 * the messages are those of the other packages' `parseOptions`.
 */

/** zod's name for what it received. */
function typeName(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : String(value);
  if (typeof value !== 'object') return typeof value;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const ctor = (value as { constructor?: { name?: string } }).constructor;
  return Object.getPrototypeOf(value) !== Object.prototype && 'constructor' in value && ctor
    ? String(ctor.name)
    : 'object';
}

const invalidType = (expected: string, value: unknown) =>
  `Invalid input: expected ${expected}, received ${typeName(value)}`;

interface IntBounds {
  /** Inclusive lower bound, or exclusive with `above`. */
  min?: number;
  above?: boolean;
  max?: number;
  /** Said after the bound when a value is above `max`. */
  maxNote?: string;
}

/** `z.number().int()` with `.nonnegative()`, `.positive()`, `.min()`, `.max()`. */
function checkInt(
  value: unknown,
  { min, above = false, max, maxNote = '' }: IntBounds,
): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return invalidType('number', value);
  if (!Number.isInteger(value)) return invalidType('int', value);
  if (value > Number.MAX_SAFE_INTEGER) {
    return `Too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`;
  }
  if (value < Number.MIN_SAFE_INTEGER) {
    return `Too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`;
  }
  if (min !== undefined && (above ? value <= min : value < min)) {
    return `Too small: expected number to be ${above ? '>' : '>='}${min}`;
  }
  if (max !== undefined && value > max) return `Too big: expected number to be <=${max}${maxNote}`;
  return undefined;
}

function isObject(value: unknown): value is Record<PropertyKey, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** zod's notion of a plain object (what `z.record` accepts). */
function isPlainObject(value: unknown): value is Record<PropertyKey, unknown> {
  if (!isObject(value)) return false;
  const ctor = value.constructor;
  if (ctor === undefined || typeof ctor !== 'function') return true;
  const prototype = (ctor as { prototype?: unknown }).prototype;
  return isObject(prototype) && Object.hasOwn(prototype, 'isPrototypeOf');
}

class Problem {
  constructor(
    readonly path: PropertyKey[],
    readonly message: string,
  ) {}
}

/** Reads an option as zod does: inherited keys count, absent is undefined. */
function has(input: Record<PropertyKey, unknown>, key: string): boolean {
  return key in input && input[key] !== undefined;
}

function int(
  input: Record<PropertyKey, unknown>,
  key: string,
  bounds: IntBounds,
  fallback: number,
): number {
  if (!has(input, key)) return fallback;
  const problem = checkInt(input[key], bounds);
  if (problem) throw new Problem([key], problem);
  return input[key] as number;
}

function nullableInt(
  input: Record<PropertyKey, unknown>,
  key: string,
  bounds: IntBounds,
  fallback: number | null,
): number | null {
  if (input[key] === null) return null;
  const note = bounds.maxNote && `${bounds.maxNote.slice(0, -1)}; null for no limit)`;
  return int(input, key, note ? { ...bounds, maxNote: note } : bounds, fallback as number);
}

function optional<T>(
  input: Record<PropertyKey, unknown>,
  out: Record<string, unknown>,
  key: string,
  check: (value: unknown) => string | Problem | undefined,
  value: (raw: unknown) => T = (raw) => raw as T,
): void {
  if (!(key in input)) return;
  const raw = input[key];
  if (raw !== undefined) {
    const problem = check(raw);
    if (problem instanceof Problem) throw problem;
    if (problem) throw new Problem([key], problem);
  }
  out[key] = raw === undefined ? undefined : value(raw);
}

/** Node fires a longer timer after 1 ms: a delay is at most 2^31 - 1 ms. */
const TIMER_NOTE = ' (the longest a timer can wait, about 24.8 days)';
const ms: IntBounds = { min: 0, max: MAX_TIMER_MS, maxNote: TIMER_NOTE };
const positiveMs: IntBounds = { min: 0, above: true, max: MAX_TIMER_MS, maxNote: TIMER_NOTE };
const count: IntBounds = { min: 0 };
const positive: IntBounds = { min: 0, above: true };

function resolve(input: unknown): ResolvedServerOptions {
  if (!isObject(input)) throw new Problem([], invalidType('object', input));
  const listen = input.listen;
  if (typeof listen !== 'string' && !isObject(listen))
    throw new Problem(['listen'], 'Invalid input');
  const out: Record<string, unknown> = { listen };
  if (typeof listen !== 'string') {
    // An object endpoint is copied as zod's passthrough object copies it.
    const copy: Record<string, unknown> = {};
    for (const key in listen) if (key !== '__proto__') copy[key] = listen[key];
    out.listen = copy;
  }
  if ('interface' in input) out.interface = input.interface;
  const fn = (value: unknown) =>
    typeof value === 'function' ? undefined : invalidType('function', value);
  optional(input, out, 'setup', fn);
  optional(input, out, 'checkoutDone', fn);
  optional(input, out, 'workerModule', (value) => {
    if (typeof value === 'string') {
      return value.length >= 1 ? undefined : 'Too small: expected string to have >=1 characters';
    }
    return value instanceof URL ? undefined : 'Invalid input';
  });
  optional(input, out, 'name', (value) =>
    typeof value === 'string' ? undefined : invalidType('string', value),
  );
  out.spares = int(input, 'spares', count, 2);
  out.maxWorkers = int(input, 'maxWorkers', positive, 64);
  out.connectionTimeout = int(input, 'connectionTimeout', ms, 10_000);
  out.maxRequestsPerWorker = nullableInt(input, 'maxRequestsPerWorker', positive, null);
  out.spawnInterval = int(input, 'spawnInterval', ms, 0);
  out.hungWorkerTimeout = nullableInt(input, 'hungWorkerTimeout', positiveMs, 300_000);
  out.setupTimeout = nullableInt(input, 'setupTimeout', positiveMs, 60_000);
  out.maxQueuedCalls = int(input, 'maxQueuedCalls', positive, 1_024);
  out.frameTimeout = int(input, 'frameTimeout', positiveMs, 30_000);
  out.socketMode = int(input, 'socketMode', { min: 0, max: 0o777 }, 0o600);
  out.maxFrameBytes = int(input, 'maxFrameBytes', positive, DEFAULT_MAX_FRAME_BYTES);
  optional(
    input,
    out,
    'execArgv',
    (value) => {
      if (!Array.isArray(value)) return invalidType('array', value);
      const bad = value.findIndex((item) => typeof item !== 'string');
      return bad < 0
        ? undefined
        : new Problem(['execArgv', bad], invalidType('string', value[bad]));
    },
    (value) => [...(value as string[])],
  );
  optional(
    input,
    out,
    'env',
    (value) => {
      if (!isPlainObject(value)) return invalidType('record', value);
      for (const key of Reflect.ownKeys(value)) {
        if (key === '__proto__' || !Object.prototype.propertyIsEnumerable.call(value, key))
          continue;
        if (typeof key !== 'string') return new Problem(['env', key], 'Invalid key in record');
        const item = value[key];
        if (item !== undefined && typeof item !== 'string') {
          return new Problem(['env', key], invalidType('string', item));
        }
      }
      return undefined;
    },
    (value) => {
      const env: Record<string, string | undefined> = {};
      for (const key of Object.keys(value as object)) {
        if (key !== '__proto__') env[key] = (value as Record<string, string | undefined>)[key];
      }
      return env;
    },
  );
  if (has(input, 'handleSignals')) {
    if (typeof input.handleSignals !== 'boolean') {
      throw new Problem(['handleSignals'], invalidType('boolean', input.handleSignals));
    }
    out.handleSignals = input.handleSignals;
  } else {
    out.handleSignals = true;
  }
  return out as unknown as ResolvedServerOptions;
}

/** Validates server options and fills in defaults. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  let resolved: ResolvedServerOptions;
  try {
    resolved = resolve(options ?? {});
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    throw invalidOption('createServer', error.path, error.message, options);
  }
  if (resolved.interface === undefined && resolved.workerModule === undefined) {
    throw new InvalidOptionError(
      'createServer: option "interface": expected handlers, an implementation or a function (or a workerModule), received nothing',
    );
  }
  return resolved;
}
