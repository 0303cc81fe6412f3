/**
 * The supervisor: listens, keeps warm spare workers, hands each accepted connection to
 * one of them, replaces it, watches for hung workers, restarts workers onto fresh code
 * (SIGHUP), and closes gracefully with a deadline (TERM, then KILL). It is out of the data
 * path: once a connection is handed over, client and worker talk directly.
 *
 * @module
 */
import { unlinkSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ClosedError,
  type Endpoint,
  encodeFrame,
  formatEndpoint,
  parseEndpoint,
  ServerBusyError,
  toWire,
} from '@taskpool/protocol/runtime';
import type { WorkerConfig } from './ipc.js';
import { openListener } from './listener.js';
import type { ResolvedServerOptions } from './options.js';
import { WorkerHandle, type WorkerState } from './worker-handle.js';

/** Counts of the supervisor's workers and waiting connections. */
export interface ServerStats {
  starting: number;
  spares: number;
  serving: number;
  waitingConnections: number;
  /** Workers spawned since start. */
  spawned: number;
  /** Workers killed by the hung-worker watchdog since start. */
  killedHung: number;
}

/** Options of `server.close()`. */
export interface CloseOptions {
  /**
   * How long busy workers may take to finish their checkouts before they get SIGTERM
   * (and, 1 s later, SIGKILL).
   * @default 10_000 (ms)
   * @example await server.close({ timeout: 2_000 })
   */
  timeout?: number;
}

interface WaitingConnection {
  socket: Socket;
  timer: NodeJS.Timeout;
}

const KILL_GRACE_MS = 1_000;
const MAX_CRASH_BACKOFF_MS = 5_000;

function workerMainScript(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./worker-main${extname(here)}`, import.meta.url));
}

export class Supervisor {
  readonly #options: ResolvedServerOptions;
  readonly #endpoint: Endpoint;
  readonly #workers = new Set<WorkerHandle>();
  readonly #waiting: WaitingConnection[] = [];
  #listener: Server | undefined;
  #listening: Promise<Endpoint> | undefined;
  /** listen() was called (and has not failed): spares are kept. */
  #started = false;
  #nextWorkerId = 1;
  #generation = 0;
  #spawned = 0;
  #killedHung = 0;
  #crashes = 0;
  #lastSpawn = 0;
  #spawnTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #exitWaiters: (() => void)[] = [];
  #signalHandlers: [NodeJS.Signals, () => void][] = [];

  constructor(options: ResolvedServerOptions) {
    this.#options = options;
    this.#endpoint = parseEndpoint(options.listen as never);
  }

  /** Where the server listens (with the real port once listening on TCP port 0). */
  get endpoint(): Endpoint {
    const address = this.#listener?.address();
    if (this.#endpoint.kind === 'tcp' && address && typeof address === 'object') {
      return { ...this.#endpoint, port: address.port };
    }
    return this.#endpoint;
  }

  stats(): ServerStats {
    let starting = 0;
    let spares = 0;
    let serving = 0;
    for (const worker of this.#workers) {
      if (worker.state === 'starting') starting++;
      else if (worker.state === 'spare') spares++;
      else if (worker.state === 'serving') serving++;
    }
    return {
      starting,
      spares,
      serving,
      waitingConnections: this.#waiting.length,
      spawned: this.#spawned,
      killedHung: this.#killedHung,
    };
  }

  listen(): Promise<Endpoint> {
    if (this.#closing) return Promise.reject(new ClosedError('server'));
    this.#listening ??= this.#listen();
    return this.#listening;
  }

  async #listen(): Promise<Endpoint> {
    // Spares start while the socket is opened, not after: a worker takes longer to start
    // than the listener, and the first connection waits for one.
    this.#started = true;
    this.#fill();
    let listener: Server;
    try {
      listener = await openListener(this.#endpoint, this.#options.socketMode);
    } catch (error) {
      this.#started = false;
      this.#listening = undefined;
      clearTimeout(this.#spawnTimer);
      this.#spawnTimer = undefined;
      for (const worker of this.#workers) worker.kill('SIGTERM');
      throw error;
    }
    if (this.#closing) {
      listener.close();
      throw new ClosedError('server');
    }
    this.#listener = listener;
    listener.on('connection', (socket) => this.#accept(socket));
    listener.on('error', (error) => {
      process.stderr.write(`taskpool server: listener error: ${error.message}\n`);
    });
    this.#startWatchdog();
    if (this.#options.handleSignals) this.#installSignals();
    return this.endpoint;
  }

  /** Replaces every worker with one running fresh code: spares at once, busy ones when idle. */
  restart(): void {
    if (this.#closing) return;
    this.#generation++;
    const old = [...this.#workers].filter((worker) => worker.generation < this.#generation);
    for (const worker of old) {
      if (worker.state === 'spare' || worker.state === 'starting') worker.kill('SIGTERM');
    }
    const serving = old.filter((worker) => worker.state === 'serving' && !worker.retiring);
    const interval = this.#options.spawnInterval;
    serving.forEach((worker, index) => {
      if (interval === 0) worker.retire('restart');
      else setTimeout(() => worker.retire('restart'), index * interval).unref();
    });
    this.#fill();
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeout ?? 10_000);
    return this.#closing;
  }

  async #close(timeout: number): Promise<void> {
    for (const [signal, handler] of this.#signalHandlers) process.off(signal, handler);
    this.#signalHandlers = [];
    clearTimeout(this.#spawnTimer);
    const listener = this.#listener;
    if (listener) {
      // Not awaited: its callback waits for every connection ever accepted, and handed-off
      // ones belong to the workers, which are waited for below.
      listener.close();
      if (this.#endpoint.kind === 'unix') {
        try {
          unlinkSync(this.#endpoint.path);
        } catch {
          // Already gone: libuv unlinks it on close.
        }
      }
    }
    for (const waiting of this.#waiting.splice(0)) {
      clearTimeout(waiting.timer);
      waiting.socket.destroy();
    }
    for (const worker of this.#workers) {
      if (worker.state === 'serving') worker.retire('server closing');
      else worker.kill('SIGTERM');
    }
    if (!(await this.#allExited(timeout))) {
      for (const worker of this.#workers) worker.kill('SIGTERM');
      if (!(await this.#allExited(KILL_GRACE_MS))) {
        for (const worker of this.#workers) worker.kill('SIGKILL');
        await this.#allExited(KILL_GRACE_MS * 5);
      }
    }
    clearInterval(this.#watchdog);
  }

  #allExited(timeout: number): Promise<boolean> {
    if (this.#workers.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#exitWaiters = this.#exitWaiters.filter((waiter) => waiter !== check);
        resolve(false);
      }, timeout);
      const check = () => {
        if (this.#workers.size > 0) return;
        clearTimeout(timer);
        this.#exitWaiters = this.#exitWaiters.filter((waiter) => waiter !== check);
        resolve(true);
      };
      this.#exitWaiters.push(check);
    });
  }

  #installSignals(): void {
    const graceful = () => void this.close();
    const restart = () => this.restart();
    const handlers: [NodeJS.Signals, () => void][] = [
      ['SIGTERM', graceful],
      ['SIGINT', graceful],
      ['SIGHUP', restart],
    ];
    for (const [signal, handler] of handlers) process.on(signal, handler);
    this.#signalHandlers = handlers;
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    socket.on('error', () => socket.destroy());
    const spare = this.#takeSpare();
    if (spare) {
      this.#handOff(spare, socket);
      return;
    }
    const waiting: WaitingConnection = {
      socket,
      timer: setTimeout(() => this.#refuse(waiting), this.#options.connectionTimeout),
    };
    socket.once('close', () => this.#dropWaiting(waiting));
    this.#waiting.push(waiting);
    this.#fill();
  }

  #takeSpare(): WorkerHandle | undefined {
    for (const worker of this.#workers) {
      if (worker.state === 'spare' && worker.generation === this.#generation) return worker;
    }
    return undefined;
  }

  #handOff(worker: WorkerHandle, socket: Socket): void {
    if (!worker.handOff(socket)) socket.destroy();
    // The replacement spare is forked on the next turn: fork() blocks this process for
    // milliseconds, and the handle must be on its way first.
    setImmediate(() => this.#fill());
  }

  #dropWaiting(waiting: WaitingConnection): void {
    const index = this.#waiting.indexOf(waiting);
    if (index >= 0) this.#waiting.splice(index, 1);
    clearTimeout(waiting.timer);
  }

  #refuse(waiting: WaitingConnection): void {
    this.#dropWaiting(waiting);
    const error = new ServerBusyError(
      `no worker became free within ${this.#options.connectionTimeout} ms (maxWorkers ${this.#options.maxWorkers})`,
    );
    waiting.socket.end(encodeFrame({ type: 'error', id: 0, error: toWire(error) }));
    waiting.socket.resume();
  }

  /** Spawns workers until there are enough spares and every waiting connection is covered. */
  #fill(): void {
    if (this.#closing || !this.#started || this.#spawnTimer) return;
    const stats = this.stats();
    const live = this.#workers.size;
    const wanted = Math.max(this.#options.spares, this.#waiting.length);
    if (stats.starting + stats.spares >= wanted || live >= this.#options.maxWorkers) return;
    const delay = Math.max(
      this.#lastSpawn + this.#options.spawnInterval - Date.now(),
      this.#crashes > 0 ? Math.min(100 * 2 ** (this.#crashes - 1), MAX_CRASH_BACKOFF_MS) : 0,
    );
    if (delay > 0) {
      this.#spawnTimer = setTimeout(() => {
        this.#spawnTimer = undefined;
        this.#spawn();
        this.#fill();
      }, delay);
      return;
    }
    this.#spawn();
    this.#fill();
  }

  #spawn(): void {
    if (this.#closing) return;
    const { workerModule } = this.#options;
    const config: WorkerConfig = {
      workerId: this.#nextWorkerId++,
      serverName: this.#options.name ?? null,
      endpoint: formatEndpoint(this.#endpoint),
      maxFrameBytes: this.#options.maxFrameBytes,
      maxRequestsPerWorker: this.#options.maxRequestsPerWorker,
      workerModule: workerModule === undefined ? null : String(workerModule),
    };
    const entry = process.argv[1];
    if (workerModule === undefined && entry === undefined) {
      throw new ClosedError('server (no entry script to re-execute: pass workerModule)');
    }
    this.#lastSpawn = Date.now();
    this.#spawned++;
    const worker = new WorkerHandle({
      config,
      script: workerModule === undefined ? (entry as string) : workerMainScript(),
      execArgv: this.#options.execArgv ?? process.execArgv,
      env: (this.#options.env as NodeJS.ProcessEnv | undefined) ?? process.env,
      generation: this.#generation,
      onReady: (ready) => this.#onReady(ready),
      onExit: (exited, code, signal, previous) => this.#onExit(exited, code, signal, previous),
    });
    this.#workers.add(worker);
  }

  #onReady(worker: WorkerHandle): void {
    this.#crashes = 0;
    if (worker.generation < this.#generation || this.#closing) {
      worker.kill('SIGTERM');
      return;
    }
    const waiting = this.#waiting.shift();
    if (waiting) {
      clearTimeout(waiting.timer);
      waiting.socket.removeAllListeners('close');
      this.#handOff(worker, waiting.socket);
    }
  }

  #onExit(
    worker: WorkerHandle,
    code: number | null,
    signal: NodeJS.Signals | null,
    previous: WorkerState,
  ): void {
    // A worker stopped on purpose (closing, or replaced by a restart) did not crash.
    const stoppedOnPurpose = this.#closing !== undefined || worker.generation < this.#generation;
    const diedStarting =
      previous === 'starting' && signal === null && code !== 0 && !stoppedOnPurpose;
    this.#workers.delete(worker);
    if (diedStarting) {
      this.#crashes++;
      process.stderr.write(
        `taskpool server: worker ${worker.id} (pid ${worker.pid}) exited with code ${code} before it was ready\n`,
      );
    }
    for (const waiter of [...this.#exitWaiters]) waiter();
    this.#fill();
  }

  #startWatchdog(): void {
    const timeout = this.#options.hungWorkerTimeout;
    if (timeout === null) return;
    const period = Math.min(Math.max(Math.floor(timeout / 5), 20), 1_000);
    this.#watchdog = setInterval(() => {
      const now = Date.now();
      for (const worker of this.#workers) {
        if (worker.state === 'exited') continue;
        if (now - worker.lastSeen > timeout) {
          this.#killedHung++;
          process.stderr.write(
            `taskpool server: killing hung worker ${worker.id} (pid ${worker.pid}): no answer for ${now - worker.lastSeen} ms\n`,
          );
          worker.kill('SIGKILL');
        } else if (worker.state !== 'starting') {
          worker.ping();
        }
      }
    }, period);
    this.#watchdog.unref();
  }
}
