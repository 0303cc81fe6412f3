/**
 * `forkTaskServer`: starts a server in a child process bound to the caller's life. When
 * the caller exits or calls `close()`, the server closes gracefully and unlinks its socket.
 *
 * @module
 */
import { fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ClosedError,
  type EndpointInput,
  formatEndpoint,
  InvalidOptionError,
  isTaskpoolError,
  MAX_TIMER_MS,
  parseEndpoint,
  TimeoutError,
} from '@taskpool/protocol';
import type { WireError } from '@taskpool/protocol/internal';
import { resolveServerOptions, type ServerOptions } from './options.js';
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
}

/** A server running in a child process. */
export interface ForkedServer extends AsyncDisposable {
  readonly pid: number;
  /** Where it listens, as `unix:/path` or `tcp://host:port` (a string `createClient` takes). */
  readonly endpoint: string;
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

/** Server options a forked server does not take, and why. */
const NOT_TAKEN: Record<string, string> = {
  interface: 'the worker code comes from option module',
  setup: 'the worker code comes from option module',
  checkoutDone: 'the worker code comes from option module',
  workerModule: 'the worker code comes from option module',
  handleSignals: 'a forked server always handles its signals',
};

/** A value as an option error shows it. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'a function';
  if (value instanceof URL) return `the URL ${value.href}`;
  try {
    const json = JSON.stringify(value) ?? String(value);
    // Functions vanish from JSON: `{}` would hide what was given.
    const keys = typeof value === 'object' && value !== null ? Object.keys(value) : [];
    return json === '{}' && keys.length > 0 ? `an object (keys: ${keys.join(', ')})` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function invalid(option: string, expected: string, value: unknown, cause?: unknown) {
  return new InvalidOptionError(
    `forkTaskServer: option ${option}: expected ${expected}, received ${shown(value)}`,
    cause === undefined ? undefined : { cause },
  );
}

/** The checked options: the server's own, and the fork's (`module`, `startTimeout`). */
interface CheckedForkOptions {
  moduleUrl: string;
  startTimeout: number;
  listen: string | undefined;
  server: Record<string, unknown>;
}

/**
 * Checks everything that can be checked here, before anything is forked: the fork's own
 * options, then the server's (as createServer would, named as forkTaskServer's).
 */
function checkForkOptions(options: unknown): CheckedForkOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(
      `forkTaskServer: options: expected an object with a module, received ${shown(options)}`,
    );
  }
  const { module, startTimeout = 10_000, listen, ...server } = options as Record<string, unknown>;
  if (!(module instanceof URL) && (typeof module !== 'string' || module === '')) {
    throw invalid('module', 'the path or file URL of a worker module', module);
  }
  if (
    typeof startTimeout !== 'number' ||
    !Number.isInteger(startTimeout) ||
    startTimeout < 1 ||
    startTimeout > MAX_TIMER_MS
  ) {
    throw invalid(
      'startTimeout',
      `an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`,
      startTimeout,
    );
  }
  for (const [key, why] of Object.entries(NOT_TAKEN)) {
    if (server[key] !== undefined) throw invalid(key, `nothing (${why})`, server[key]);
  }
  let endpoint: string | undefined;
  if (listen !== undefined) {
    try {
      endpoint = formatEndpoint(parseEndpoint(listen as EndpointInput));
    } catch (error) {
      const what = (error as Error).message.replace(
        /^endpoint(?: "(?:[^"\\]|\\.)*")?: expected /,
        '',
      );
      throw invalid('listen', what.replace(/, received .*$/, ''), listen, error);
    }
  }
  const moduleUrl = toModuleUrl(module);
  try {
    resolveServerOptions({
      ...server,
      listen: endpoint ?? 'unix:/forked-server-socket',
      workerModule: moduleUrl,
    } as ServerOptions);
  } catch (error) {
    if (!isTaskpoolError(error) || error.code !== 'INVALID_OPTION') throw error;
    throw new InvalidOptionError(error.message.replace(/^createServer:/, 'forkTaskServer:'), {
      cause: error,
    });
  }
  return { moduleUrl, startTimeout, listen: endpoint, server };
}

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
  const { moduleUrl, startTimeout, listen, server } = checkForkOptions(options);
  const endpoint = listen ?? formatEndpoint(parseEndpoint(await temporarySocketPath()));
  const serverOptions = { ...server, listen: endpoint, workerModule: moduleUrl };
  const child = fork(siblingScript('fork-main'), [], {
    execArgv: options.execArgv ?? process.execArgv,
    env: { ...(options.env ?? process.env), TASKPOOL_FORKED_SERVER: JSON.stringify(serverOptions) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
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
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}
