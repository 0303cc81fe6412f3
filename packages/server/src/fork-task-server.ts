/**
 * `forkTaskServer`: starts a server in a child process bound to the caller's life. When
 * the caller exits or calls `close()`, the server closes gracefully and unlinks its socket.
 *
 * @module
 */
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ClosedError,
  type EndpointInput,
  formatEndpoint,
  parseEndpoint,
  TimeoutError,
} from '@taskpool/protocol';
import type { WireError } from '@taskpool/protocol/internal';
import { resolveForkOptions, type ServerOptions } from './options.js';
import { rebuildError, withCause } from './start-failure.js';

/** Options of {@link forkTaskServer}: the server's options, with the worker code as a module. */
export interface ForkServerOptions
  extends Omit<
    ServerOptions,
    'interface' | 'setup' | 'checkoutDone' | 'workerModule' | 'listen' | 'handleSignals'
  > {
  /**
   * The worker module (`export default defineWorker({ interface, setup, checkoutDone })`),
   * as a path or a file URL.
   * @example module: new URL('./hasher-worker.js', import.meta.url)
   */
  module: string | URL;
  /**
   * Where to listen.
   * @default a new Unix socket in the temporary directory
   * @example listen: 'tcp://127.0.0.1:0'
   */
  listen?: EndpointInput;
  /**
   * How long to wait for the server to listen.
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
  /** What the server and its workers write to stderr, with `stderr: 'pipe'`; otherwise null. */
  readonly stderr: Readable | null;
  /** Closes it gracefully (workers finish their checkouts until `timeout`) and waits for it to exit. */
  close(options?: { timeout?: number }): Promise<void>;
}

/**
 * Messages of the forked server to its parent. `failed` carries the error in wire form,
 * and its cause (the load error of `WORKER_START_FAILED`), which the wire form leaves out.
 */
export type ForkedServerMessage =
  | { t: 'listening'; endpoint: string }
  | { t: 'failed'; error: WireError; cause?: WireError };

function siblingScript(name: string): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./${name}${extname(here)}`, import.meta.url));
}

/**
 * A new socket path in the temporary directory. node:crypto is loaded here, when needed:
 * at module load it cost every process importing the server 2 ms, workers included.
 */
async function temporarySocketPath(): Promise<string> {
  const { randomBytes } = await import('node:crypto');
  return join(tmpdir(), `taskpool-${process.pid}-${randomBytes(6).toString('hex')}.sock`);
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
  const endpoint = formatEndpoint(parseEndpoint(listen ?? (await temporarySocketPath())));
  const serverOptions = { ...server, listen: endpoint, workerModule: toModuleUrl(module) };
  const child = fork(siblingScript('fork-main'), [], {
    execArgv: options.execArgv ?? process.execArgv,
    env: { ...(options.env ?? process.env), TASKPOOL_FORKED_SERVER: JSON.stringify(serverOptions) },
    stdio: ['ignore', 'inherit', stderr, 'ipc'],
    serialization: 'json',
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const listening = await new Promise<string>((resolve, reject) => {
    let failure: Error | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      failure = new TimeoutError(startTimeout, {
        cause: 'the forked server did not start listening',
      });
    }, startTimeout);
    child.on('message', (message: ForkedServerMessage) => {
      if (message.t === 'listening') {
        clearTimeout(timer);
        resolve(message.endpoint);
        return;
      }
      // The child has already reaped what it started, and exits next: the promise
      // rejects once it has, so that nothing of it is left running.
      const error = rebuildError(message.error);
      failure = message.cause ? withCause(error, rebuildError(message.cause)) : error;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(
        failure ??
          new ClosedError(
            `forked server (it exited with ${signal ?? `code ${code}`} before listening)`,
          ),
      );
    });
  });
  // The parent may exit without closing: the child sees the channel close and shuts down.
  child.unref();
  child.channel?.unref();

  let closing: Promise<void> | undefined;
  const close = ({ timeout = 10_000 }: { timeout?: number } = {}) => {
    closing ??= (async () => {
      if (child.connected) child.send({ t: 'close', timeout });
      const killer = setTimeout(() => child.kill('SIGKILL'), timeout + 5_000);
      await exited;
      clearTimeout(killer);
    })();
    return closing;
  };
  return {
    pid: child.pid as number,
    endpoint: listening,
    stderr: child.stderr,
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
