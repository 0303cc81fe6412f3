/**
 * The pool of worker connections: opens `minWorkers` at start and more on demand up to
 * `maxWorkers`, reconnects while servers do not answer (first after `reconnect.first`,
 * then every `reconnect.every`), serves waiting checkouts first come first served, and
 * counts every lost worker once before refilling.
 *
 * @module
 */
import {
  ClosedError,
  type Endpoint,
  QueueFullError,
  type TaskpoolError,
  TimeoutError,
} from '@taskpool/protocol/runtime';
import { Connection } from './connection.js';
import { channels, debug } from './diagnostics.js';
import type { ResolvedClientOptions } from './options.js';

/** Counts of the pool's connections and waiting checkouts. */
export interface PoolStats {
  /** Connections being opened. */
  connecting: number;
  /** Connected workers waiting in the pool. */
  idle: number;
  /** Workers held by checkouts. */
  busy: number;
  /** Checkouts waiting for a worker. */
  waiting: number;
  /** Workers lost (died, dropped after an error or timeout) since start. */
  lost: number;
  /** Workers retired (maxCheckouts, a server's retire) since start. */
  retired: number;
  /** Connections opened since start. */
  connected: number;
  /** Connection attempts that failed since start. */
  connectFailures: number;
}

interface Waiter {
  resolve: (connection: Connection) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
}

/** How a released worker leaves its checkout. */
export type ReleaseMode = 'pool' | 'destroy';

interface EndpointHealth {
  endpoint: Endpoint;
  /** When its last connection attempt failed, or 0 when it answers. */
  downSince: number;
  connections: number;
  /** Marks it up again, for another try, while other endpoints answer. */
  retry?: NodeJS.Timeout | undefined;
}

export class Pool {
  readonly #options: ResolvedClientOptions;
  readonly #endpoints: EndpointHealth[];
  readonly #connections = new Set<Connection>();
  readonly #idle: Connection[] = [];
  readonly #waiters: Waiter[] = [];
  /** Connections being closed on purpose (retired or pool closing): not counted as lost. */
  readonly #retiring = new WeakSet<Connection>();
  #connecting = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #failing = false;
  #closed = false;
  #lost = 0;
  #retired = 0;
  #connected = 0;
  #connectFailures = 0;
  #nextEndpoint = 0;
  #emptied: (() => void)[] = [];

  constructor(options: ResolvedClientOptions, endpoints: Endpoint[]) {
    this.#options = options;
    this.#endpoints = endpoints.map((endpoint) => ({ endpoint, downSince: 0, connections: 0 }));
    this.#populate();
  }

  stats(): PoolStats {
    const idle = this.#idle.length;
    return {
      connecting: this.#connecting,
      idle,
      busy: this.#connections.size - idle,
      waiting: this.#waiters.length,
      lost: this.#lost,
      retired: this.#retired,
      connected: this.#connected,
      connectFailures: this.#connectFailures,
    };
  }

  /** Waits for a worker: FIFO, bounded by `timeout` (ms, null = none) and `signal`. */
  acquire(timeout: number | null, signal: AbortSignal | undefined): Promise<Connection> {
    if (this.#closed) return Promise.reject(new ClosedError('client'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const idle = this.#takeIdle();
    if (idle && this.#waiters.length === 0) return Promise.resolve(this.#assign(idle));
    if (idle) this.#idle.unshift(idle);
    if (this.#waiters.length >= this.#options.maxQueue) {
      return Promise.reject(new QueueFullError(this.#options.maxQueue));
    }
    return new Promise<Connection>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        remove();
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      const remove = () => {
        waiter.cleanup();
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
      };
      if (timeout !== null) {
        timer = setTimeout(() => {
          remove();
          reject(new TimeoutError(timeout));
        }, timeout);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      if (channels.checkoutQueued.hasSubscribers) {
        channels.checkoutQueued.publish({ waiting: this.#waiters.length });
      }
      this.#serve();
      this.#populate();
    });
  }

  /** Takes a worker back from a checkout. */
  release(connection: Connection, mode: ReleaseMode): void {
    if (!connection.isOpen) return;
    const max = this.#options.maxCheckouts;
    if (mode === 'destroy') {
      connection.close();
    } else if (
      this.#closed ||
      connection.retiring ||
      (max !== null && connection.checkouts >= max)
    ) {
      this.#retiring.add(connection);
      connection.close();
    } else {
      connection.done();
      connection.state = 'idle';
      this.#idle.push(connection);
      this.#serve();
    }
  }

  #takeIdle(): Connection | undefined {
    for (;;) {
      const connection = this.#idle.shift();
      if (!connection || connection.isOpen) return connection;
    }
  }

  #assign(connection: Connection): Connection {
    connection.state = 'assigned';
    connection.checkouts++;
    return connection;
  }

  #serve(): void {
    while (this.#waiters.length > 0) {
      const connection = this.#takeIdle();
      if (!connection) return;
      const waiter = this.#waiters.shift() as Waiter;
      waiter.cleanup();
      waiter.resolve(this.#assign(connection));
    }
  }

  /** Opens connections for `minWorkers` and for waiting checkouts, within `maxWorkers`. */
  #populate(): void {
    if (this.#closed || this.#failing) return;
    const total = this.#connections.size + this.#connecting;
    const room = this.#options.maxWorkers - total;
    const forMin = this.#options.minWorkers - total;
    const forWaiters = this.#waiters.length - this.#idle.length - this.#connecting;
    const wanted = Math.min(room, Math.max(forMin, forWaiters));
    for (let i = 0; i < wanted; i++) this.#open();
  }

  #pickEndpoint(): EndpointHealth {
    const up = this.#endpoints.filter((health) => health.downSince === 0);
    if (up.length > 0) {
      // Spread: the endpoint with the fewest connections, round-robin among equals.
      const start = this.#nextEndpoint++ % up.length;
      let best = up[start] as EndpointHealth;
      for (let i = 1; i < up.length; i++) {
        const candidate = up[(start + i) % up.length] as EndpointHealth;
        if (candidate.connections < best.connections) best = candidate;
      }
      return best;
    }
    return this.#endpoints.reduce((oldest, health) =>
      health.downSince < oldest.downSince ? health : oldest,
    );
  }

  #open(): void {
    const health = this.#pickEndpoint();
    this.#connecting++;
    Connection.open(
      health.endpoint,
      { maxFrameBytes: this.#options.maxFrameBytes, timeout: this.#options.connectTimeout },
      {
        onClosed: (connection, error) => this.#onClosed(connection, health, error),
        onRetire: (c) => this.#onRetire(c),
      },
    ).then(
      (connection) => {
        this.#connecting--;
        this.#connected++;
        health.downSince = 0;
        health.connections++;
        this.#failing = false;
        clearTimeout(this.#reconnectTimer);
        this.#reconnectTimer = undefined;
        if (this.#closed) {
          this.#retiring.add(connection);
          connection.close(new ClosedError('client'));
          return;
        }
        debug('connected to worker %d (pid %d)', connection.hello?.worker, connection.pid);
        this.#connections.add(connection);
        this.#idle.push(connection);
        this.#serve();
        this.#populate();
      },
      (error: TaskpoolError) => {
        this.#connecting--;
        this.#connectFailures++;
        debug('connection attempt failed: %s', error.message);
        this.#onConnectFailed(health);
      },
    );
  }

  /**
   * While another endpoint answers, fill from it and try this one again later. When none
   * answers, probe with one connection at a time: first after `reconnect.first`, then every
   * `reconnect.every`, for as long as workers are wanted.
   */
  #onConnectFailed(health: EndpointHealth): void {
    health.downSince ||= Date.now();
    if (this.#closed) return;
    if (this.#endpoints.some((other) => other.downSince === 0)) {
      health.retry ??= setTimeout(() => {
        health.retry = undefined;
        health.downSince = 0;
        this.#populate();
      }, this.#options.reconnect.every).unref();
      this.#populate();
      return;
    }
    const firstFailure = !this.#failing;
    this.#failing = true;
    this.#scheduleProbe(
      firstFailure ? this.#options.reconnect.first : this.#options.reconnect.every,
    );
  }

  #scheduleProbe(delay: number): void {
    if (this.#reconnectTimer || this.#closed) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#closed || !this.#failing) return;
      if (this.#connecting === 0 && this.#wantsConnections()) this.#open();
      else this.#scheduleProbe(this.#options.reconnect.every);
    }, delay);
    this.#reconnectTimer.unref();
  }

  #wantsConnections(): boolean {
    const total = this.#connections.size + this.#connecting;
    return (
      total < this.#options.maxWorkers &&
      (total < this.#options.minWorkers || this.#waiters.length > this.#idle.length)
    );
  }

  #onRetire(connection: Connection): void {
    if (connection.state === 'idle') {
      const index = this.#idle.indexOf(connection);
      if (index >= 0) this.#idle.splice(index, 1);
      this.#retiring.add(connection);
      connection.close();
    }
  }

  #onClosed(connection: Connection, health: EndpointHealth, error: TaskpoolError): void {
    if (!this.#connections.delete(connection)) return;
    health.connections--;
    const index = this.#idle.indexOf(connection);
    if (index >= 0) this.#idle.splice(index, 1);
    if (this.#retiring.has(connection)) {
      this.#retired++;
    } else {
      this.#lost++;
      debug('lost worker %d (pid %d): %s', connection.hello?.worker, connection.pid, error.message);
      if (channels.workerLost.hasSubscribers) {
        channels.workerLost.publish({ pid: connection.pid, error });
      }
    }
    if (this.#connections.size === 0) for (const resolve of this.#emptied.splice(0)) resolve();
    this.#populate();
  }

  /** Refuses new checkouts, rejects waiting ones, closes idle workers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    for (const health of this.#endpoints) clearTimeout(health.retry);
    for (const waiter of this.#waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(new ClosedError('client'));
    }
    for (const connection of this.#idle.splice(0)) {
      this.#retiring.add(connection);
      connection.close(new ClosedError('client'));
    }
  }

  /** Closes every connection, busy ones too. */
  destroy(): void {
    this.close();
    for (const connection of this.#connections) {
      this.#retiring.add(connection);
      connection.close(new ClosedError('client'));
    }
  }

  /** Resolves when no connection is open, or after `timeout` ms (false). */
  whenEmpty(timeout: number): Promise<boolean> {
    if (this.#connections.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeout);
      this.#emptied.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
