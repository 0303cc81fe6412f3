/**
 * The supervisor's handle on one worker process: spawn it, learn when it is ready, hand
 * it a connection, ping it, retire or stop it, and hear when it has exited (and been
 * reaped). It owns the worker's state, and records why it was asked to stop (as Node's
 * cluster records `exitedAfterDisconnect`), so an exit needs no guessing.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Socket } from 'node:net';
import type { ServerStatsSnapshot } from '@taskpool/protocol';
import type { WireError } from '@taskpool/protocol/internal';
import {
  type SupervisorMessage,
  WORKER_ENV,
  type WorkerConfig,
  type WorkerMessage,
  type WorkerSecrets,
} from './ipc.js';
import type { OpeningRejection } from './opening-exchange.js';
import type { WorkerMetricsReport } from './worker-metrics.js';

export type WorkerState = 'starting' | 'spare' | 'serving' | 'exited';

/** Why the supervisor asked a worker to stop; none for a worker that stopped by itself. */
type StopReason =
  /** Replaced by a rolling restart (SIGHUP, `restart()`). */
  | 'restart'
  /** The server is closing. */
  | 'close'
  /** Its event loop stayed blocked past `hungWorkerTimeout`. */
  | 'hung'
  /** It did not report ready within its start limit. */
  | 'start-timeout'
  /** A spare beyond `spares`, started for a connection that left before it was ready. */
  | 'surplus'
  /** `listen()` failed: the listener could not be opened, or a first worker could not load. */
  | 'listen-failed';

interface WorkerSpawnOptions {
  config: WorkerConfig;
  /** The script to run: the worker-main entry, or the server's own entry script. */
  script: string;
  execArgv: string[];
  env: NodeJS.ProcessEnv;
  generation: number;
  /** Its code is loaded (setup has not run yet); it serves the interface of hash `interfaceHash`. */
  onLoaded: (worker: WorkerHandle, interfaceHash: string | null) => void;
  onReady: (worker: WorkerHandle) => void;
  /** It asks for the server's stats (its client sent a `stats` request); answer with `id`. */
  onStatsRequest: (worker: WorkerHandle, id: number) => void;
  /** Its code has loaded and it needs its secrets (TLS, `auth`): they are sent then. */
  secrets: () => WorkerSecrets | undefined;
  /** The connection it was handed ended in its opening exchange: it is a spare again. */
  onReleased: (worker: WorkerHandle, reason: OpeningRejection) => void;
  /** It reports the calls it ran since its last report. */
  onMetrics: (report: WorkerMetricsReport) => void;
  onExit: (
    worker: WorkerHandle,
    code: number | null,
    signal: NodeJS.Signals | null,
    previous: WorkerState,
  ) => void;
}

export class WorkerHandle {
  readonly id: number;
  readonly generation: number;
  readonly child: ChildProcess;
  #state: WorkerState = 'starting';
  #stopReason: StopReason | undefined;
  #loaded = false;
  #loadError: WireError | undefined;
  /** `performance.now()` when spawned (moved on when the supervisor was paused). */
  #spawnedAt = performance.now();
  /** `performance.now()` when the worker last answered (or became ready). */
  #lastSeen = this.#spawnedAt;
  /** The remote address of the TCP connection it serves, for `maxConnectionsPerPeer`. */
  peerAddress: string | undefined;

  constructor(options: WorkerSpawnOptions) {
    this.id = options.config.workerId;
    this.generation = options.generation;
    this.child = fork(options.script, [], {
      execArgv: options.execArgv,
      env: { ...options.env, [WORKER_ENV]: JSON.stringify(options.config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    this.child.on('message', (message: WorkerMessage) => {
      this.#lastSeen = performance.now();
      if (message.t === 'stats') {
        options.onStatsRequest(this, message.id);
        return;
      }
      if (message.t === 'metrics') {
        options.onMetrics(message.report);
        return;
      }
      if (message.t === 'released') {
        if (this.#state !== 'serving') return;
        this.#state = 'spare';
        options.onReleased(this, message.reason);
        return;
      }
      if (this.#state !== 'starting') return;
      if (message.t === 'loaded' && !this.#loaded) {
        this.#loaded = true;
        const secrets = options.secrets();
        if (secrets) this.#send({ t: 'secrets', secrets });
        options.onLoaded(this, message.interfaceHash);
      } else if (message.t === 'ready') {
        this.#loaded = true;
        this.#state = 'spare';
        options.onReady(this);
      } else if (message.t === 'start-failed') {
        this.#loadError = message.error;
      }
    });
    // 'exit' can come before the IPC channel is closed; 'close' is after both.
    this.child.once('close', (code, signal) => {
      const previous = this.#state;
      this.#state = 'exited';
      options.onExit(this, code, signal, previous);
    });
    this.child.on('error', () => {
      // Spawn or IPC failures end in 'close' as well; nothing else to do here.
    });
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** Its code is loaded (it said so, or that it is ready). */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** What loading its code threw, if it said so before it exited. */
  get loadError(): WireError | undefined {
    return this.#loadError;
  }

  /** Why it was asked to stop, if it was. */
  get stopReason(): StopReason | undefined {
    return this.#stopReason;
  }

  /** Serving, and asked to retire once its checkout ends. */
  get retiring(): boolean {
    return this.#state === 'serving' && this.#stopReason !== undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Milliseconds since it last answered a ping. */
  silentFor(now: number): number {
    return now - this.#lastSeen;
  }

  /** Milliseconds since it was spawned. */
  age(now: number): number {
    return now - this.#spawnedAt;
  }

  /** The supervisor itself was paused for `ms`: that time is not the worker's. */
  forgive(ms: number): void {
    this.#lastSeen += ms;
    this.#spawnedAt += ms;
  }

  #send(message: SupervisorMessage, handle?: Socket): boolean {
    if (!this.child.connected) return false;
    try {
      this.child.send(message, handle as never, (error) => {
        if (error && handle) handle.destroy();
      });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Hands the connection over, with the bytes already read from it; the supervisor's copy
   * of the socket is closed once sent.
   */
  handOff(socket: Socket, head?: Buffer): boolean {
    this.#state = 'serving';
    const message: SupervisorMessage = { t: 'connection' };
    if (head && head.length > 0) message.head = head.toString('base64');
    return this.#send(message, socket);
  }

  ping(): void {
    this.#send({ t: 'ping' });
  }

  /** Answers the worker's stats request `id`. */
  answerStats(id: number, stats: ServerStatsSnapshot): void {
    this.#send({ t: 'stats', id, stats });
  }

  /** Asks a serving worker to finish its checkout, tell its client, and exit. */
  retire(reason: 'restart' | 'close'): void {
    this.#stopReason ??= reason;
    this.#send({ t: 'retire', reason: reason === 'close' ? 'server closing' : 'restart' });
  }

  /** Stops the process with `signal`, recording why (the first reason given stays). */
  stop(reason: StopReason, signal: NodeJS.Signals = 'SIGTERM'): void {
    this.#stopReason ??= reason;
    if (this.#state !== 'exited') this.child.kill(signal);
  }
}
