/**
 * The supervisor's handle on one worker process: spawn it, learn when it is ready, hand
 * it a connection, ping it, retire or kill it, and hear when it has exited (and been
 * reaped).
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Socket } from 'node:net';
import {
  type SupervisorMessage,
  WORKER_ENV,
  type WorkerConfig,
  type WorkerMessage,
} from './ipc.js';

export type WorkerState = 'starting' | 'spare' | 'serving' | 'exited';

export interface WorkerSpawnOptions {
  config: WorkerConfig;
  /** The script to run: the worker-main entry, or the server's own entry script. */
  script: string;
  execArgv: string[];
  env: NodeJS.ProcessEnv;
  generation: number;
  onReady: (worker: WorkerHandle) => void;
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
  readonly startedAt = Date.now();
  state: WorkerState = 'starting';
  /** When the worker last answered (or became ready). */
  lastSeen = Date.now();
  retiring = false;

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
      this.lastSeen = Date.now();
      if (message.t === 'ready' && this.state === 'starting') {
        this.state = 'spare';
        options.onReady(this);
      }
    });
    // 'exit' can come before the IPC channel is closed; 'close' is after both.
    this.child.once('close', (code, signal) => {
      const previous = this.state;
      this.state = 'exited';
      options.onExit(this, code, signal, previous);
    });
    this.child.on('error', () => {
      // Spawn or IPC failures end in 'close' as well; nothing else to do here.
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
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

  /** Hands the connection over; the supervisor's copy of the socket is closed once sent. */
  handOff(socket: Socket): boolean {
    this.state = 'serving';
    return this.#send({ t: 'connection' }, socket);
  }

  ping(): void {
    this.#send({ t: 'ping' });
  }

  retire(reason: string): void {
    this.retiring = true;
    this.#send({ t: 'retire', reason });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.state !== 'exited') this.child.kill(signal);
  }
}
