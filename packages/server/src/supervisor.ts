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
  formatEndpoint,
  InvalidOptionError,
  parseEndpoint,
  ServerBusyError,
} from '@taskpool/protocol';
import { FRAME_HEADER_BYTES } from '@taskpool/protocol/internal';
import type { WorkerConfig } from './ipc.js';
import { openListener } from './listener.js';
import type { ResolvedServerOptions } from './options.js';
import { installSignals } from './signals.js';
import { SpawnPacer } from './spawn-pacer.js';
import { WaitingRoom } from './waiting-room.js';
import { Watchdog } from './watchdog.js';
import { WorkerHandle, type WorkerState } from './worker-handle.js';

/** Counts of the supervisor's workers and waiting connections. */
export interface ServerStats {
  /** Workers loading their code and running `setup` (not those asked to stop). */
  starting: number;
  /** Ready workers waiting for a connection (not those asked to stop). */
  spares: number;
  /** Workers serving a connection, retiring ones included. */
  serving: number;
  /** Accepted connections waiting in the room for a worker. */
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

const KILL_GRACE_MS = 1_000;
/** What a worker may take to load its code, on top of `setupTimeout`, before it is killed. */
const LOAD_ALLOWANCE_MS = 10_000;

function workerMainScript(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./worker-main${extname(here)}`, import.meta.url));
}

export class Supervisor {
  readonly #options: ResolvedServerOptions;
  readonly #endpoint: Endpoint;
  readonly #workers = new Set<WorkerHandle>();
  readonly #waiting: WaitingRoom;
  readonly #watchdog: Watchdog;
  readonly #pacer: SpawnPacer;
  #listener: Server | undefined;
  #listening: Promise<Endpoint> | undefined;
  /** listen() was called (and has not failed): spares are kept. */
  #started = false;
  #nextWorkerId = 1;
  #generation = 0;
  #spawned = 0;
  #killedHung = 0;
  #closing: Promise<void> | undefined;
  #exitWaiters: (() => void)[] = [];
  #removeSignals: (() => void) | undefined;

  constructor(options: ResolvedServerOptions) {
    this.#options = options;
    this.#endpoint = parseEndpoint(options.listen as never);
    this.#pacer = new SpawnPacer(options.spawnInterval);
    this.#waiting = new WaitingRoom({
      timeout: options.connectionTimeout,
      // A client sends nothing before hello; allow one frame for future protocols.
      maxHeadBytes: options.maxFrameBytes + FRAME_HEADER_BYTES,
      refusal: () =>
        new ServerBusyError(
          `no worker became free within ${options.connectionTimeout} ms (maxWorkers ${options.maxWorkers})`,
        ),
    });
    const { setupTimeout } = options;
    this.#watchdog = new Watchdog({
      hungTimeout: options.hungWorkerTimeout,
      startTimeout: setupTimeout === null ? null : setupTimeout + LOAD_ALLOWANCE_MS,
      workers: () => this.#workers,
      onHung: (worker, silent) => {
        if (worker.stopReason === 'hung') return;
        this.#killedHung++;
        process.stderr.write(
          `taskpool server: killing hung worker ${worker.id} (pid ${worker.pid}): no answer for ${Math.round(silent)} ms\n`,
        );
        worker.stop('hung', 'SIGKILL');
      },
      onStartTimeout: (worker, age) => {
        if (worker.stopReason === 'start-timeout') return;
        process.stderr.write(
          `taskpool server: killing worker ${worker.id} (pid ${worker.pid}): not ready ${Math.round(age)} ms after it was started (setupTimeout ${setupTimeout} ms)\n`,
        );
        worker.stop('start-timeout', 'SIGKILL');
      },
    });
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
      // A worker asked to stop is on its way out: it counts as neither spare nor starting.
      const stopping = worker.stopReason !== undefined;
      if (worker.state === 'starting' && !stopping) starting++;
      else if (worker.state === 'spare' && !stopping) spares++;
      else if (worker.state === 'serving') serving++;
    }
    return {
      starting,
      spares,
      serving,
      waitingConnections: this.#waiting.size,
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
      this.#pacer.cancel();
      for (const worker of this.#workers) worker.stop('listen-failed');
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
    this.#watchdog.start();
    if (this.#options.handleSignals) {
      this.#removeSignals = installSignals({
        close: () => void this.close(),
        restart: () => this.restart(),
      });
    }
    return this.endpoint;
  }

  /** Replaces every worker with one running fresh code: spares at once, busy ones when idle. */
  restart(): void {
    if (this.#closing) return;
    this.#generation++;
    const old = [...this.#workers].filter((worker) => worker.generation < this.#generation);
    for (const worker of old) {
      if (worker.state === 'spare' || worker.state === 'starting') worker.stop('restart');
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
    this.#removeSignals?.();
    this.#pacer.cancel();
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
    this.#waiting.closeAll();
    for (const worker of this.#workers) {
      if (worker.state === 'serving') worker.retire('close');
      else worker.stop('close');
    }
    if (!(await this.#allExited(timeout))) {
      for (const worker of this.#workers) worker.stop('close');
      if (!(await this.#allExited(KILL_GRACE_MS))) {
        for (const worker of this.#workers) worker.stop('close', 'SIGKILL');
        await this.#allExited(KILL_GRACE_MS * 5);
      }
    }
    this.#watchdog.stop();
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
    this.#waiting.add(socket);
    this.#fill();
  }

  #takeSpare(): WorkerHandle | undefined {
    for (const worker of this.#workers) {
      if (
        worker.state === 'spare' &&
        worker.stopReason === undefined &&
        worker.generation === this.#generation
      ) {
        return worker;
      }
    }
    return undefined;
  }

  #handOff(worker: WorkerHandle, socket: Socket, head?: Buffer): void {
    if (!worker.handOff(socket, head)) socket.destroy();
    // The replacement spare is forked on the next turn: fork() blocks this process for
    // milliseconds, and the handle must be on its way first.
    setImmediate(() => this.#fill());
  }

  /** Spawns workers until there are enough spares and every waiting connection is covered. */
  #fill(): void {
    if (this.#closing || !this.#started || this.#pacer.scheduled) return;
    const stats = this.stats();
    const wanted = Math.max(this.#options.spares, this.#waiting.size);
    if (stats.starting + stats.spares >= wanted) return;
    if (this.#workers.size >= this.#options.maxWorkers) return;
    this.#pacer.request(() => {
      this.#spawn();
      this.#fill();
    });
  }

  #spawn(): void {
    if (this.#closing) return;
    const options = this.#options;
    const { workerModule } = options;
    const config: WorkerConfig = {
      workerId: this.#nextWorkerId++,
      serverName: options.name ?? null,
      endpoint: formatEndpoint(this.#endpoint),
      limits: {
        maxFrameBytes: options.maxFrameBytes,
        maxRequestsPerWorker: options.maxRequestsPerWorker,
        maxQueuedCalls: options.maxQueuedCalls,
        frameTimeout: options.frameTimeout,
        hungWorkerTimeout: options.hungWorkerTimeout,
        setupTimeout: options.setupTimeout,
      },
      workerModule: workerModule === undefined ? null : String(workerModule),
    };
    const entry = process.argv[1];
    if (workerModule === undefined && entry === undefined) {
      throw new InvalidOptionError(
        'createServer: option "workerModule": expected a worker module, received nothing, and this process has no entry script to re-execute',
      );
    }
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
    this.#pacer.started();
    if (this.#closing) {
      worker.stop('close');
      return;
    }
    if (worker.generation < this.#generation) {
      worker.stop('restart');
      return;
    }
    const waiting = this.#waiting.take();
    if (waiting) {
      this.#handOff(worker, waiting.socket, waiting.head);
    } else if (this.stats().spares > this.#options.spares) {
      // Started for a connection that left before it was ready: not wanted.
      worker.stop('surplus');
    }
  }

  #onExit(
    worker: WorkerHandle,
    code: number | null,
    signal: NodeJS.Signals | null,
    previous: WorkerState,
  ): void {
    // A worker stopped on purpose did not crash, unless it was stopped for not starting.
    const { stopReason } = worker;
    const failedToStart =
      previous === 'starting' &&
      (stopReason === undefined || stopReason === 'start-timeout') &&
      !(code === 0 && signal === null);
    this.#workers.delete(worker);
    if (failedToStart) {
      this.#pacer.failedStart();
      if (stopReason === undefined) {
        process.stderr.write(
          `taskpool server: worker ${worker.id} (pid ${worker.pid}) exited with ${signal ?? `code ${code}`} before it was ready\n`,
        );
      }
    }
    for (const waiter of [...this.#exitWaiters]) waiter();
    this.#fill();
  }
}
