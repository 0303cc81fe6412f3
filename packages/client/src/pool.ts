/**
 * The pool of worker connections: opens `minWorkers` at start and more on demand up to
 * `maxWorkers`, reconnects while servers do not answer (first after `reconnect.first`,
 * then every `reconnect.every`), serves waiting checkouts first come first served, closes
 * workers above `minWorkers` idle longer than `idleTimeout`, and counts every lost worker
 * once before refilling.
 *
 * The pool owns which connections are idle and which are assigned to checkouts; it opens
 * them through a factory (`Connection.open` in the client), so its rules can be tested
 * with fake connections.
 *
 * @module
 */
import {
  ClosedError,
  type Endpoint,
  QueueFullError,
  type TaskpoolError,
  TimeoutError,
} from '@taskpool/protocol';
import { timerDelay } from './deadline-queue.js';
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
  /** Workers lost (died, dropped after a handler error, a timeout or an abort) since start. */
  lost: number;
  /** Workers closed on purpose (maxCheckouts, a server's retire, idleTimeout, close) since start. */
  retired: number;
  /** Connections opened since start. */
  connected: number;
  /** Connection attempts that failed since start. */
  connectFailures: number;
}

/** What the pool needs of a connection: a `Connection`, or a fake in tests. */
export interface PoolConnection {
  /** Not closed yet. */
  readonly isOpen: boolean;
  /** The worker asked to serve no further checkout. */
  readonly retiring: boolean;
  readonly pid: number | undefined;
  /** Returns the worker for the next checkout (the server runs `checkoutDone`). */
  done(): void;
  /** Closes the connection; it reports `onClosed` (synchronously). */
  close(error?: TaskpoolError): void;
}

/** What a connection tells the pool that opened it. */
export interface PoolEvents<C> {
  /** The connection ended, for any reason (once). */
  onClosed: (connection: C, error: TaskpoolError) => void;
  /** The worker will serve no further checkout. */
  onRetire: (connection: C) => void;
}

/** Opens a connection to `endpoint` (resolves once it can take calls) that reports to `events`. */
export type OpenConnection<C> = (endpoint: Endpoint, events: PoolEvents<C>) => Promise<C>;

/** The options the pool follows. */
export type PoolOptions = Pick<
  ResolvedClientOptions,
  'minWorkers' | 'maxWorkers' | 'maxQueue' | 'maxCheckouts' | 'reconnect' | 'idleTimeout'
>;

interface Waiter<C> {
  resolve: (connection: C) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
}

/** A connection waiting in the pool, since `performance.now()` `since`. */
interface Idle<C> {
  connection: C;
  since: number;
}

/**
 * How a released worker leaves its checkout: `pool` returns it (or retires it, at
 * `maxCheckouts` or when it asked to retire), `destroy` closes it and counts it lost.
 */
export type ReleaseMode = 'pool' | 'destroy';

interface EndpointHealth {
  endpoint: Endpoint;
  /** When its last connection attempt failed, or 0 when it answers. */
  downSince: number;
  connections: number;
  /** Marks it up again, for another try, while other endpoints answer. */
  retry?: NodeJS.Timeout | undefined;
}

export class Pool<C extends PoolConnection> {
  readonly #options: PoolOptions;
  readonly #open: OpenConnection<C>;
  readonly #endpoints: EndpointHealth[];
  /** Every open connection: the idle ones and the assigned ones. */
  readonly #connections = new Set<C>();
  /** Connections waiting for a checkout, oldest first; the newest is given out first. */
  readonly #idle: Idle<C>[] = [];
  /** Connections held by checkouts. */
  readonly #assigned = new Set<C>();
  /** Checkouts each connection has served. */
  readonly #served = new WeakMap<C, number>();
  readonly #waiters: Waiter<C>[] = [];
  /** Connections being closed on purpose (retired, idle too long, pool closing): not lost. */
  readonly #closingOnPurpose = new WeakSet<C>();
  #connecting = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  /** Closes connections idle past `idleTimeout`; set for the oldest idle one. */
  #idleTimer: NodeJS.Timeout | undefined;
  #failing = false;
  #closed = false;
  #lost = 0;
  #retired = 0;
  #connected = 0;
  #connectFailures = 0;
  #nextEndpoint = 0;
  #emptied: (() => void)[] = [];

  constructor(options: PoolOptions, endpoints: Endpoint[], open: OpenConnection<C>) {
    this.#options = options;
    this.#open = open;
    this.#endpoints = endpoints.map((endpoint) => ({ endpoint, downSince: 0, connections: 0 }));
    this.#populate();
  }

  stats(): PoolStats {
    return {
      connecting: this.#connecting,
      idle: this.#idle.length,
      busy: this.#assigned.size,
      waiting: this.#waiters.length,
      lost: this.#lost,
      retired: this.#retired,
      connected: this.#connected,
      connectFailures: this.#connectFailures,
    };
  }

  /** Waits for a worker: FIFO, bounded by `timeout` (ms, null = none) and `signal`. */
  acquire(timeout: number | null, signal: AbortSignal | undefined): Promise<C> {
    if (this.#closed) return Promise.reject(new ClosedError('client'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0) {
      const idle = this.#takeIdle();
      if (idle) return Promise.resolve(this.#assign(idle));
    }
    if (this.#waiters.length >= this.#options.maxQueue) {
      return Promise.reject(new QueueFullError(this.#options.maxQueue));
    }
    return new Promise<C>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        remove();
        reject(signal?.reason);
      };
      const waiter: Waiter<C> = {
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
        }, timerDelay(timeout));
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
  release(connection: C, mode: ReleaseMode): void {
    if (!this.#assigned.has(connection)) return; // closed meanwhile, or released already
    const max = this.#options.maxCheckouts;
    if (!connection.isOpen) {
      this.#assigned.delete(connection);
    } else if (mode === 'destroy') {
      connection.close(); // #onClosed counts it lost
    } else if (
      this.#closed ||
      connection.retiring ||
      (max !== null && (this.#served.get(connection) ?? 0) >= max)
    ) {
      this.#closeOnPurpose(connection);
    } else {
      this.#assigned.delete(connection);
      connection.done();
      this.#idle.push({ connection, since: performance.now() });
      this.#serve();
      this.#armIdleTimer();
    }
  }

  /** The connection that became idle last (the others may age out), or none. */
  #takeIdle(): C | undefined {
    for (;;) {
      const idle = this.#idle.pop();
      if (!idle || idle.connection.isOpen) return idle?.connection;
    }
  }

  #assign(connection: C): C {
    this.#assigned.add(connection);
    this.#served.set(connection, (this.#served.get(connection) ?? 0) + 1);
    return connection;
  }

  #serve(): void {
    while (this.#waiters.length > 0) {
      const connection = this.#takeIdle();
      if (!connection) return;
      const waiter = this.#waiters.shift() as Waiter<C>;
      waiter.cleanup();
      waiter.resolve(this.#assign(connection));
    }
  }

  #closeOnPurpose(connection: C, error?: TaskpoolError): void {
    this.#closingOnPurpose.add(connection);
    connection.close(error);
  }

  /** Sets the idle timer for the connection idle longest, while above `minWorkers`. */
  #armIdleTimer(): void {
    const idleTimeout = this.#options.idleTimeout;
    const oldest = this.#idle[0];
    if (idleTimeout === null || oldest === undefined || this.#idleTimer || this.#closed) return;
    if (this.#connections.size <= this.#options.minWorkers) return;
    const wait = Math.ceil(oldest.since + idleTimeout - performance.now());
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = undefined;
      this.#closeIdle();
    }, timerDelay(wait));
    this.#idleTimer.unref();
  }

  /** Closes connections idle past `idleTimeout`, oldest first, down to `minWorkers`. */
  #closeIdle(): void {
    const idleTimeout = this.#options.idleTimeout;
    if (idleTimeout === null || this.#closed) return;
    const now = performance.now();
    for (;;) {
      const oldest = this.#idle[0];
      if (oldest === undefined || this.#connections.size <= this.#options.minWorkers) break;
      if (now - oldest.since < idleTimeout) break;
      this.#idle.shift();
      debug('closing worker pid %d: idle for %d ms', oldest.connection.pid, now - oldest.since);
      this.#closeOnPurpose(oldest.connection);
    }
    this.#armIdleTimer();
  }

  /** Opens connections for `minWorkers` and for waiting checkouts, within `maxWorkers`. */
  #populate(): void {
    if (this.#closed || this.#failing) return;
    const total = this.#connections.size + this.#connecting;
    const room = this.#options.maxWorkers - total;
    const forMin = this.#options.minWorkers - total;
    const forWaiters = this.#waiters.length - this.#idle.length - this.#connecting;
    const wanted = Math.min(room, Math.max(forMin, forWaiters));
    for (let i = 0; i < wanted; i++) this.#connect();
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

  #connect(): void {
    const health = this.#pickEndpoint();
    this.#connecting++;
    this.#open(health.endpoint, {
      onClosed: (connection, error) => this.#onClosed(connection, health, error),
      onRetire: (connection) => this.#onRetire(connection),
    }).then(
      (connection) => {
        this.#connecting--;
        this.#connected++;
        health.downSince = 0;
        health.connections++;
        this.#failing = false;
        clearTimeout(this.#reconnectTimer);
        this.#reconnectTimer = undefined;
        this.#connections.add(connection);
        if (this.#closed) {
          this.#closeOnPurpose(connection, new ClosedError('client'));
          return;
        }
        debug('connected to worker pid %d', connection.pid);
        this.#idle.push({ connection, since: performance.now() });
        this.#serve();
        this.#populate();
        this.#armIdleTimer();
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
      }, timerDelay(this.#options.reconnect.every)).unref();
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
      if (this.#connecting === 0 && this.#wantsConnections()) this.#connect();
      else this.#scheduleProbe(this.#options.reconnect.every);
    }, timerDelay(delay));
    this.#reconnectTimer.unref();
  }

  #wantsConnections(): boolean {
    const total = this.#connections.size + this.#connecting;
    return (
      total < this.#options.maxWorkers &&
      (total < this.#options.minWorkers || this.#waiters.length > this.#idle.length)
    );
  }

  #onRetire(connection: C): void {
    const index = this.#idle.findIndex((idle) => idle.connection === connection);
    if (index < 0) return; // assigned: it is retired on release
    this.#idle.splice(index, 1);
    this.#closeOnPurpose(connection);
  }

  #onClosed(connection: C, health: EndpointHealth, error: TaskpoolError): void {
    if (!this.#connections.delete(connection)) return;
    health.connections--;
    const index = this.#idle.findIndex((idle) => idle.connection === connection);
    if (index >= 0) this.#idle.splice(index, 1);
    this.#assigned.delete(connection);
    if (this.#closingOnPurpose.has(connection)) {
      this.#retired++;
    } else {
      this.#lost++;
      debug('lost worker pid %d: %s', connection.pid, error.message);
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
    clearTimeout(this.#idleTimer);
    for (const health of this.#endpoints) clearTimeout(health.retry);
    for (const waiter of this.#waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(new ClosedError('client'));
    }
    for (const { connection } of this.#idle.splice(0)) {
      this.#closeOnPurpose(connection, new ClosedError('client'));
    }
  }

  /** Closes every connection, busy ones too. */
  destroy(): void {
    this.close();
    for (const connection of [...this.#connections]) {
      this.#closeOnPurpose(connection, new ClosedError('client'));
    }
  }

  /** Resolves when no connection is open (true), or after `timeout` ms (false). */
  whenEmpty(timeout: number): Promise<boolean> {
    if (this.#connections.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timerDelay(timeout));
      this.#emptied.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
