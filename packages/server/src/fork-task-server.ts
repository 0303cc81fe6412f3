/**
 * `forkTaskServer`: starts a server in a child process bound to the caller's life. When
 * the caller exits or calls `close()`, the server closes gracefully and unlinks its socket.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ClosedError,
  type EndpointInput,
  formatEndpoint,
  MAX_TIMER_MS,
  parseEndpoint,
  TimeoutError,
} from '@taskpool/protocol';
import { fromWire, type WireError } from '@taskpool/protocol/internal';
import { resolveCloseOptions, resolveForkOptions, type ServerOptions } from './options.js';
import type { CloseOptions, ServerStats } from './supervisor.js';

/** Options of {@link forkTaskServer}: the server's options, with the worker code as a module. */
export interface ForkServerOptions
  extends Omit<
    ServerOptions,
    | 'interface'
    | 'setup'
    | 'checkoutDone'
    | 'authorize'
    | 'logger'
    | 'workerModule'
    | 'listen'
    | 'handleSignals'
  > {
  /**
   * The worker module (`export default defineWorker({ interface, setup, checkoutDone })`),
   * as a path or a file URL.
   * @example module: new URL('./hasher-worker.js', import.meta.url)
   */
  module: string | URL;
  /**
   * Where to listen.
   * @default a new Unix socket in a new private directory (0700) in the temporary directory
   * @example listen: 'tcp://127.0.0.1:0'
   */
  listen?: EndpointInput;
  /**
   * How long to wait for the server to listen. Past it the server is sent SIGTERM (it
   * closes, stopping its workers), SIGKILL 5 s later if it is still there, and the promise
   * rejects with `TIMEOUT` once it has exited.
   * @default 10_000 (ms)
   * @example startTimeout: 30_000
   */
  startTimeout?: number;
  /**
   * Where what the server and its workers write to stderr goes: this process's stderr, or
   * a pipe the caller reads from `ForkedServer.stderr` (and must keep reading: a full pipe
   * blocks the writer).
   * @default 'inherit'
   * @example stderr: 'pipe'
   */
  stderr?: 'inherit' | 'pipe';
}

/** A server running in a child process. */
export interface ForkedServer extends AsyncDisposable {
  readonly pid: number;
  /** Where it listens, as `unix:/path` or `tcp://host:port` (a string `createClient` takes). */
  readonly endpoint: string;
  /** Where its `metricsPort` serves (`http://host:port/metrics`); null without one. */
  readonly metricsUrl: string | null;
  /** What the server and its workers write to stderr, with `stderr: 'pipe'`; otherwise null. */
  readonly stderr: Readable | null;
  /**
   * Closes it gracefully (workers finish their checkouts until `timeout`) and waits for it to
   * exit. Bad options reject it with `INVALID_OPTION`, and the server goes on running.
   */
  close(options?: CloseOptions): Promise<void>;
  /**
   * The server's `stats()`, its `metrics` included, asked over the channel to it: rejects
   * with `CLOSED` once it has exited, and with `TIMEOUT` when it does not answer within 5 s.
   */
  stats(): Promise<ServerStats>;
}

/**
 * Messages of the forked server to its parent. `failed` carries the error in wire form,
 * and its cause (the load error of `WORKER_START_FAILED`), which the wire form leaves out.
 */
export type ForkedServerMessage =
  | { t: 'listening'; endpoint: string; metricsUrl: string | null }
  | { t: 'failed'; error: WireError; cause?: WireError }
  /** The answer to the parent's stats request `id`. */
  | { t: 'stats'; id: number; stats: ServerStats };

/**
 * After the start timeout's SIGTERM, how long the server may take to close (stopping and
 * reaping its workers) before it is killed.
 */
const TERM_GRACE_MS = 5_000;
/** How long the forked server may take to answer `stats()`. */
const STATS_TIMEOUT_MS = 5_000;
/** How long a server that reported its failure to start may take to exit. */
const FAILED_EXIT_GRACE_MS = 2_000;

/**
 * Resolves once the child has exited and its IPC channel has closed, so that every message
 * it sent has been heard. Not its 'close' event: that also waits for its stdio pipes, and
 * with `stderr: 'pipe'` the server's workers hold that pipe too, so an orphaned worker
 * would keep it from ever coming.
 */
function whenGone(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const settle = () => {
      if (exit && !child.connected) resolve(exit);
    };
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      settle();
    });
    child.once('disconnect', settle);
  });
}

function siblingScript(name: string): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./${name}${extname(here)}`, import.meta.url));
}

/**
 * A new socket in a new private directory (mode 0700) in the temporary directory: a fixed
 * or guessable name there could be bound first by another user.
 */
function temporarySocketPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'taskpool-')), 'taskpool.sock');
}

function toModuleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  return /^[a-z]+:/i.test(module) ? module : pathToFileURL(module).href;
}

/**
 * Starts a server in a child process and resolves once it listens.
 *
 * @example
 * await using server = await forkTaskServer({ module: new URL('./worker.js', import.meta.url) });
 * const client = createClient({ connect: server.endpoint });
 */
export async function forkTaskServer(options: ForkServerOptions): Promise<ForkedServer> {
  const { module, listen, startTimeout, stderr, ...server } = resolveForkOptions(options);
  const temporary = listen === undefined ? temporarySocketPath() : undefined;
  const endpoint = formatEndpoint(parseEndpoint(listen ?? (temporary as string)));
  const serverOptions = { ...server, listen: endpoint, workerModule: toModuleUrl(module) };
  const child = fork(siblingScript('fork-main'), [], {
    execArgv: options.execArgv ?? process.execArgv,
    env: options.env ?? process.env,
    stdio: ['ignore', 'inherit', stderr, 'ipc'],
    // Structured clone: the options may hold bytes (TLS keys), and go over the channel.
    serialization: 'advanced',
  });
  child.send({ t: 'start', options: serverOptions });
  const gone = whenGone(child);
  // The private directory goes with the server, however it ends.
  if (temporary !== undefined) {
    void gone.then(() => rmSync(dirname(temporary), { recursive: true, force: true }));
  }

  const listening = await new Promise<{ endpoint: string; metricsUrl: string | null }>(
    (resolve, reject) => {
      // The first failure is the one reported: a report does not replace a timeout, and what
      // the timeout's SIGTERM makes the server report does not replace the timeout.
      let failure: Error | undefined;
      let killer: NodeJS.Timeout | undefined;
      const killAfter = (ms: number) => {
        killer ??= setTimeout(() => child.kill('SIGKILL'), ms);
      };
      const timer = setTimeout(() => {
        failure ??= new TimeoutError(startTimeout, {
          detail: 'waiting for the forked server to listen',
        });
        // SIGTERM first: the server closes, stopping and reaping its workers. A SIGKILL
        // would leave them running, a worker stuck loading its code for good.
        child.kill('SIGTERM');
        killAfter(TERM_GRACE_MS);
      }, startTimeout);
      child.on('message', (message: ForkedServerMessage) => {
        // Answers to stats() (see below) are not about starting.
        if (message.t === 'stats') return;
        if (message.t === 'listening') {
          // Sent before the timeout's SIGTERM arrived: the server is closing all the same.
          if (failure) return;
          clearTimeout(timer);
          resolve({ endpoint: message.endpoint, metricsUrl: message.metricsUrl });
          return;
        }
        // The child has already stopped and reaped what it started, and exits next: the
        // promise rejects once it has, so that nothing of it is left running. The start
        // timeout no longer applies; a short guard does, in case it does not exit.
        clearTimeout(timer);
        failure ??= fromWire(message.error, {
          foreign: 'plain',
          cause: message.cause && fromWire(message.cause, { foreign: 'plain' }),
        });
        killAfter(FAILED_EXIT_GRACE_MS);
      });
      child.once('error', (error) => {
        // Not started at all: there is no process to wait for.
        if (child.pid !== undefined) return;
        clearTimeout(timer);
        reject(error);
      });
      void gone.then(({ code, signal }) => {
        clearTimeout(timer);
        clearTimeout(killer);
        reject(
          failure ??
            new ClosedError(
              `forked server (it exited with ${signal ?? `code ${code}`} before listening)`,
            ),
        );
      });
    },
  );
  // The parent may exit without closing: the child sees the channel close and shuts down.
  child.unref();
  child.channel?.unref();

  let closing: Promise<void> | undefined;
  const close = (closeOptions?: { timeout?: number }): Promise<void> => {
    let timeout: number;
    try {
      ({ timeout } = resolveCloseOptions(closeOptions));
    } catch (error) {
      // close() returns a promise: a bad option rejects it rather than throwing.
      return Promise.reject(error);
    }
    closing ??= (async () => {
      if (child.connected) child.send({ t: 'close', timeout });
      // Past the server's own deadline (TERM at `timeout`, KILL 1 s later), with room to
      // spare; capped at the longest a timer waits.
      const killer = setTimeout(
        () => child.kill('SIGKILL'),
        Math.min(timeout + 5_000, MAX_TIMER_MS),
      );
      await gone;
      clearTimeout(killer);
    })();
    return closing;
  };
  /** stats() requests waiting for their answer, by id. */
  const asked = new Map<
    number,
    { resolve: (stats: ServerStats) => void; reject: (error: Error) => void }
  >();
  let nextStatsId = 1;
  child.on('message', (message: ForkedServerMessage) => {
    if (message.t === 'stats') asked.get(message.id)?.resolve(message.stats);
  });
  void gone.then(() => {
    for (const { reject } of asked.values()) reject(new ClosedError('forked server'));
  });
  const stats = (): Promise<ServerStats> => {
    if (!child.connected) return Promise.reject(new ClosedError('forked server'));
    const id = nextStatsId++;
    return new Promise<ServerStats>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        asked.delete(id);
      };
      const timer = setTimeout(() => {
        settle();
        reject(new TimeoutError(STATS_TIMEOUT_MS, { detail: 'waiting for the forked server' }));
      }, STATS_TIMEOUT_MS);
      asked.set(id, {
        resolve: (answer) => {
          settle();
          resolve(answer);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      child.send({ t: 'stats', id });
    });
  };
  return {
    pid: child.pid as number,
    endpoint: listening.endpoint,
    metricsUrl: listening.metricsUrl,
    stderr: child.stderr,
    close,
    stats,
    [Symbol.asyncDispose]: () => close(),
  };
}
