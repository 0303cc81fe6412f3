/**
 * The pool of worker connections: opens `minWorkers` at start and more on demand up to
 * `maxWorkers`, reconnects while servers do not answer (first after `reconnect.first`,
 * then every `reconnect.every`), serves waiting checkouts first come first served, closes
 * workers above `minWorkers` idle longer than `idleTimeout`, and counts every lost worker
 * once before refilling.
 *
 * While no server can be reached, a waiting checkout is told why when it gives up: its
 * `TIMEOUT` names each endpoint, its last connect error and the attempts made. A server
 * that says its workers cannot start (`WORKER_START_FAILED`), whose workers speak a
 * protocol version this client cannot (`INCOMPATIBLE_PROTOCOL`), or that this client
 * cannot authenticate with or may not talk to in plaintext (`AUTH_FAILED`,
 * `INSECURE_CONNECT`), fails the checkouts waiting at once, as no wait would help; the
 * next checkout tries again.
 *
 * The servers are a fixed list, or the list a discovery gives (`updateServers`: a
 * registry, a DNS name), which may change at any time; servers that leave it get no new
 * connection. Where each new connection goes is `#pickEndpoint`'s choice: by the room
 * servers announce (power of two choices), or by this pool's own counts.
 *
 * One-shot calls (`client.call`) take a worker the same way, first come first served with
 * the checkouts. When none is idle and no more may be opened, and no checkout waits ahead
 * of them, they are pipelined onto workers already running one-shot calls (see
 * one-shot-lanes.ts): each sends its own `done`, so the worker still runs `checkoutDone`
 * between them, and the worker goes back to the idle list when its last one has left.
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
  formatEndpoint,
  isTaskpoolError,
  QueueFullError,
  type TaskpoolError,
  TimeoutError,
} from '@taskpool/protocol';
import { describeConnectError } from './connection.js';
import { timerDelay } from './deadline-queue.js';
import { channels, debug } from './diagnostics.js';
import { type LaneTicket, OneShotLanes } from './one-shot-lanes.js';
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

/**
 * Opens a connection to `endpoint` (resolves once it can take calls) that reports to
 * `events`; rejects with the error that prevented it, as it came (`ENOENT`, `SERVER_BUSY`, ...).
 */
type OpenConnection<C> = (endpoint: Endpoint, events: PoolEvents<C>) => Promise<C>;

/** What one endpoint did, in the `data` of a `TIMEOUT` that came while it could not be reached. */
export interface EndpointReport {
  /** The endpoint, as `unix:/path` or `tcp://host:port`. */
  endpoint: string;
  /** Connection attempts that failed since it last answered (0: it answers). */
  attempts: number;
  /** The last of those failures, code first (`ENOENT: no such file or directory`). */
  error?: string;
  /** The code of that failure: a system one (`ENOENT`) or a server's (`SERVER_BUSY`). */
  code?: string;
  /** Connections open to it: all held by checkouts when a checkout timed out. */
  connections: number;
}

/** The options the pool follows. */
export type PoolOptions = Pick<
  ResolvedClientOptions,
  'minWorkers' | 'maxWorkers' | 'maxQueue' | 'maxCheckouts' | 'reconnect' | 'idleTimeout'
>;

/** A checkout or a one-shot call waiting for a worker. */
interface Waiter<C> {
  /** A one-shot call sent again (it never ran): served before every other waiter. */
  first: boolean;
  /** A one-shot call, for the lanes (which may take it depends on its method); null: a checkout. */
  ticket: LaneTicket | null;
  resolve: (connection: C) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
  /**
   * `performance.now()` from which a failed attempt that leaves no server reachable rejects
   * this waiter (its `waitForServer` has passed), or Infinity.
   */
  giveUpAt: number;
  /** Connection attempts started before it came: their failures say nothing new to it. */
  attemptsBefore: number;
  /** Its `waitForServer`, for the message. */
  waitForServer: number | null;
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
type ReleaseMode = 'pool' | 'destroy';

/** A server the pool may open connections to, and what it said of its load, if anything. */
export interface ServerTarget {
  endpoint: Endpoint;
  /**
   * Connections it can take now (`maxWorkers` less its busy workers and waiting
   * connections), as it last announced; undefined when it does not say (a static list).
   */
  room?: number;
}

/** The servers to use, as a discovery last listed them. */
export interface ServerList {
  targets: ServerTarget[];
  /** Why none can be used although servers were found (`INTERFACE_MISMATCH`). */
  unusable?: TaskpoolError;
}

interface EndpointHealth {
  endpoint: Endpoint;
  /** `formatEndpoint(endpoint)`: its identity in a discovered list. */
  key: string;
  /** In the servers' list: new connections may go to it (else only its open ones finish). */
  listed: boolean;
  /** What it announced it can take, less the connections opened to it since; undefined: not told. */
  room: number | undefined;
  /** When its last connection attempt failed, or 0 when it answers. */
  downSince: number;
  /** `performance.now()` when a connection attempt to it last began (0: never). */
  lastTried: number;
  connections: number;
  /** Connection attempts under way. */
  connecting: number;
  /** Marks it up again, for another try, while other endpoints answer. */
  retry?: NodeJS.Timeout | undefined;
  /** Connection attempts that failed since it last answered. */
  failures: number;
  /** The error of the last of those attempts. */
  lastError: unknown;
  /** The number of that attempt (see `Pool.#attempts`), to find the latest across endpoints. */
  lastAttempt: number;
}

/** Connect errors that fail the waiting checkouts at once: no wait would change them. */
const WAITING_WILL_NOT_HELP = new Set<string>([
  'WORKER_START_FAILED',
  'INCOMPATIBLE_PROTOCOL',
  'AUTH_FAILED',
  'INSECURE_CONNECT',
]);

/** A new endpoint's health: listed, up, nothing opened yet. */
function healthOf(target: ServerTarget): EndpointHealth {
  return {
    endpoint: target.endpoint,
    key: formatEndpoint(target.endpoint),
    listed: true,
    room: target.room,
    downSince: 0,
    lastTried: 0,
    connections: 0,
    connecting: 0,
    failures: 0,
    lastError: undefined,
    lastAttempt: 0,
  };
}

/**
 * How much an endpoint would welcome one more connection: the room it announced (less what
 * this pool opened since), or, when it announces nothing, the fewer connections this pool
 * has to it the better.
 */
function appeal(health: EndpointHealth): number {
  return health.room ?? -(health.connections + health.connecting);
}

export class Pool<C extends PoolConnection> {
  readonly #options: PoolOptions;
  readonly #open: OpenConnection<C>;
  /** The endpoints listed, and those no longer listed while connections to them are open. */
  #endpoints: EndpointHealth[];
  /** Where the endpoints come from, for messages (`redis service "hasher"`); undefined: a fixed list. */
  readonly #source: string | undefined;
  /** The last failure to read the list, while the list is empty. */
  #discoveryError: unknown;
  /** Every open connection: the idle ones and the assigned ones. */
  readonly #connections = new Set<C>();
  /** Connections waiting for a checkout, oldest first; the newest is given out first. */
  readonly #idle: Idle<C>[] = [];
  /** Connections held by checkouts, or running one-shot calls. */
  readonly #assigned = new Set<C>();
  /** The assigned connections that run one-shot calls, with how many each has in flight. */
  readonly #lanes = new OneShotLanes<C>();
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
  /** Whose turn it is among endpoints that are equal. */
  #turn = 0;
  /** Connection attempts started since start, numbering them. */
  #attempts = 0;
  #emptied: (() => void)[] = [];

  /**
   * `endpoints`: the servers, for good; or none and a `source` that lists them later
   * (`updateServers`).
   */
  constructor(
    options: PoolOptions,
    endpoints: Endpoint[],
    open: OpenConnection<C>,
    source?: string,
  ) {
    this.#options = options;
    this.#open = open;
    this.#source = source;
    this.#endpoints = endpoints.map((endpoint) => healthOf({ endpoint }));
    this.#populate();
  }

  /**
   * The servers to use from now on, as a discovery lists them: new ones are added, known
   * ones get the room they announced, and those no longer listed get no new connection
   * (the connections open to them stay in use until they close: a server that left the
   * list by closing retires them, one that died drops them). When servers were found but
   * none can be used (`list.unusable`), the checkouts waiting fail with that error.
   */
  updateServers(list: ServerList): void {
    if (this.#closed) return;
    const known = new Map(this.#endpoints.map((health) => [health.key, health]));
    const listed = new Set<string>();
    for (const target of list.targets) {
      const key = formatEndpoint(target.endpoint);
      listed.add(key);
      const health = known.get(key);
      if (health === undefined) {
        this.#endpoints.push(healthOf(target));
      } else {
        health.listed = true;
        // What it announced does not count the attempts of ours still under way.
        health.room = target.room === undefined ? undefined : target.room - health.connecting;
      }
    }
    for (const health of this.#endpoints) {
      if (!listed.has(health.key)) health.listed = false;
    }
    this.#forgetUnlisted();
    this.#discoveryError = undefined;
    const listedNow = this.#listed();
    if (listedNow.length === 0) {
      this.#failUnreachable(list.unusable);
      return;
    }
    // A server that is new, or answers again: try it now rather than at the next probe.
    if (this.#failing && listedNow.some((health) => health.downSince === 0)) {
      this.#failing = false;
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
    } else if (this.#failing) {
      // Still none answers: a probe stays due (one may have found nothing to try).
      this.#scheduleProbe(this.#options.reconnect.every);
    }
    this.#serve();
    this.#populate();
  }

  /** Reading the servers' list failed: said by waiting checkouts that time out while it is empty. */
  discoveryFailed(error: unknown): void {
    this.#discoveryError = error;
    // Checkouts past their waitForServer learn why now, not at the next list that comes.
    if (!this.#anyListed()) this.#failUnreachable(undefined);
  }

  #listed(): EndpointHealth[] {
    return this.#endpoints.filter((health) => health.listed);
  }

  /** Some server is listed: there is somewhere to open a connection. */
  #anyListed(): boolean {
    return this.#endpoints.some((health) => health.listed);
  }

  /** Forgets endpoints no longer listed once nothing is open, or opening, to them. */
  #forgetUnlisted(): void {
    this.#endpoints = this.#endpoints.filter((health) => {
      if (health.listed || health.connections > 0 || health.connecting > 0) return true;
      clearTimeout(health.retry);
      return false;
    });
  }

  /**
   * No server is listed: the checkouts waiting fail with `unusable` when there is such a
   * reason (`INTERFACE_MISMATCH`), or, once past their `waitForServer`, with a `TIMEOUT`
   * saying so. Later checkouts wait for the next list.
   */
  #failUnreachable(unusable: TaskpoolError | undefined): void {
    const now = performance.now();
    for (const waiter of [...this.#waiters]) {
      let error: unknown;
      if (unusable !== undefined) error = unusable;
      else if (now >= waiter.giveUpAt) {
        error = this.#timeoutError(waiter.waitForServer as number, 'waiting for a server');
      } else continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.cleanup();
      waiter.reject(error);
    }
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

  /**
   * Waits for a worker: FIFO, bounded by `timeout` (ms, null = none) and `signal`. Once it
   * has waited `waitForServer` ms (null = no such bound), the first failed connection
   * attempt that leaves no server reachable rejects it with a `TIMEOUT` saying why.
   */
  acquire(
    timeout: number | null,
    signal: AbortSignal | undefined,
    waitForServer: number | null = null,
  ): Promise<C> {
    return this.#acquire(null, timeout, signal, waitForServer, false);
  }

  /**
   * A worker for the one-shot call `ticket`, now, when one is idle or (no checkout
   * waiting, none to open) a lane can take it; else undefined. Give it back with
   * `leaveOneShot`.
   */
  takeOneShot(ticket: LaneTicket): C | undefined {
    if (this.#closed || this.#waiters.length > 0) return undefined;
    const idle = this.#takeIdle();
    if (idle) return this.#openLane(idle, ticket);
    return this.#mayOpen() ? undefined : this.#joinLane(ticket);
  }

  /**
   * Waits for a worker for one one-shot call, as `acquire` does for a checkout: the calls
   * pipelined on a worker and the checkouts share one FIFO queue. `first`: it goes to the
   * head of the queue (a call that was sent, and that its worker refused before it ran).
   */
  acquireOneShot(
    ticket: LaneTicket,
    timeout: number | null,
    signal: AbortSignal | undefined,
    waitForServer: number | null,
    first: boolean,
  ): Promise<C> {
    return this.#acquire(ticket, timeout, signal, waitForServer, first);
  }

  /** Waits for a worker: for a checkout (`ticket` null), or for the one-shot call `ticket`. */
  #acquire(
    ticket: LaneTicket | null,
    timeout: number | null,
    signal: AbortSignal | undefined,
    waitForServer: number | null,
    first: boolean,
  ): Promise<C> {
    if (this.#closed) return Promise.reject(new ClosedError('client'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#waiters.length === 0) {
      const idle = this.#takeIdle();
      if (idle) {
        return Promise.resolve(ticket ? this.#openLane(idle, ticket) : this.#assign(idle));
      }
      const lane = ticket && !this.#mayOpen() ? this.#joinLane(ticket) : undefined;
      if (lane) return Promise.resolve(lane);
    }
    if (this.#waiters.length >= this.#options.maxQueue && !first) {
      return Promise.reject(new QueueFullError(this.#options.maxQueue));
    }
    return new Promise<C>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => {
        remove();
        reject(signal?.reason);
      };
      const waiter: Waiter<C> = {
        ticket,
        first,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
        attemptsBefore: this.#attempts,
        giveUpAt:
          waitForServer === null ? Number.POSITIVE_INFINITY : performance.now() + waitForServer,
        waitForServer,
      };
      const remove = () => {
        waiter.cleanup();
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
      };
      if (timeout !== null) {
        timer = setTimeout(() => {
          remove();
          reject(this.#timeoutError(timeout, 'waiting for a worker'));
        }, timerDelay(timeout));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      if (first) {
        // Behind the calls sent again before it.
        let at = 0;
        while (at < this.#waiters.length && (this.#waiters[at] as Waiter<C>).first) at++;
        this.#waiters.splice(at, 0, waiter);
      } else {
        this.#waiters.push(waiter);
      }
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
    if (!connection.isOpen) {
      this.#assigned.delete(connection);
    } else if (mode === 'destroy') {
      connection.close(); // #onClosed counts it lost
    } else if (this.#mustRetire(connection)) {
      this.#closeOnPurpose(connection);
    } else {
      connection.done();
      this.#returnIdle(connection);
    }
  }

  /** An assigned worker, healthy and done with its checkouts, waits for the next one. */
  #returnIdle(connection: C): void {
    this.#assigned.delete(connection);
    this.#idle.push({ connection, since: performance.now() });
    this.#serve();
    this.#armIdleTimer();
  }

  /**
   * The one-shot call `ticket` leaves `connection` (`answered`: the worker ran it and
   * replied). `destroy` closes the worker at once (with `reason`, which the calls still on
   * it get) and counts it lost: it is stuck. `replace` lets the calls still on it finish
   * and closes it after the last, counted lost: a handler misbehaved. Otherwise the worker
   * goes back to the idle list (or is retired) once its last one-shot call has left.
   */
  leaveOneShot(
    connection: C,
    ticket: LaneTicket,
    answered: boolean,
    mode: ReleaseMode | 'replace',
    reason?: TaskpoolError,
  ): void {
    if (mode === 'replace') this.#lanes.doom(connection);
    const doomed = this.#lanes.isDoomed(connection);
    const left = this.#lanes.leave(connection, ticket, answered);
    if (left < 0 || !connection.isOpen) return; // closed meanwhile: #onClosed forgot it
    if (mode === 'destroy' || (doomed && left === 0)) {
      connection.close(reason); // #onClosed counts it lost
      return;
    }
    if (left > 0) {
      this.#serve(); // the head waiter may take the place it left
      return;
    }
    // Assigned until #onClosed when retired, as a checkout's worker is.
    if (this.#mustRetire(connection)) this.#closeOnPurpose(connection);
    else this.#returnIdle(connection);
  }

  /** Closing, retiring or at `maxCheckouts`: the worker serves no further checkout. */
  #mustRetire(connection: C): boolean {
    const max = this.#options.maxCheckouts;
    return (
      this.#closed ||
      connection.retiring ||
      (max !== null && (this.#served.get(connection) ?? 0) >= max)
    );
  }

  /** Another connection may be opened for a waiting call rather than pipelining it. */
  #mayOpen(): boolean {
    return !this.#failing && this.#connections.size + this.#connecting < this.#options.maxWorkers;
  }

  /** `connection`, taken idle, runs one-shot calls from now on, `ticket` first. */
  #openLane(connection: C, ticket: LaneTicket): C {
    this.#lanes.open(connection, ticket);
    return this.#assign(connection);
  }

  /** The lane the one-shot call `ticket` is pipelined onto, if one can take it. */
  #joinLane(ticket: LaneTicket): C | undefined {
    const max = this.#options.maxCheckouts;
    const connection = this.#lanes.pick(
      ticket,
      (candidate) =>
        candidate.isOpen &&
        !candidate.retiring &&
        (max === null || (this.#served.get(candidate) ?? 0) < max),
    );
    if (connection === undefined) return undefined;
    this.#lanes.join(connection, ticket);
    return this.#assign(connection);
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
      const head = this.#waiters[0] as Waiter<C>;
      const idle = this.#takeIdle();
      let connection: C | undefined;
      if (idle) {
        connection = head.ticket ? this.#openLane(idle, head.ticket) : this.#assign(idle);
      } else if (head.ticket && !this.#mayOpen()) {
        connection = this.#joinLane(head.ticket);
      }
      // A checkout at the head waits for a worker of its own: nothing behind it goes first.
      if (connection === undefined) return;
      this.#waiters.shift();
      head.cleanup();
      head.resolve(connection);
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
    if (this.#closed || this.#failing || !this.#anyListed()) return;
    const total = this.#connections.size + this.#connecting;
    const room = this.#options.maxWorkers - total;
    const forMin = this.#options.minWorkers - total;
    const forWaiters = this.#waiters.length - this.#idle.length - this.#connecting;
    const wanted = Math.min(room, Math.max(forMin, forWaiters));
    for (let i = 0; i < wanted; i++) this.#connect();
  }

  /**
   * Where the next connection goes, among the listed endpoints that answer:
   * - servers that announce their room (a registry): of two drawn at random, the one with
   *   more room (power of two choices: close to the best choice, without every client
   *   herding onto the same server between two announcements); when both drawn are full by
   *   what they announced, the one with the most room of all, so that a server with room
   *   left is not passed over;
   * - servers that announce nothing (a static list, DNS): the one this client has the fewest
   *   connections to, equals in turn. Its own counts are never stale, so it looks at all.
   * When none answers, the one tried least recently, for a probe.
   */
  #pickEndpoint(): EndpointHealth {
    const listed = this.#listed();
    const up = listed.filter((health) => health.downSince === 0);
    if (up.length === 1) return up[0] as EndpointHealth;
    if (up.length > 1 && up.every((health) => health.room === undefined)) {
      const start = this.#turn++ % up.length;
      let best = up[start] as EndpointHealth;
      for (let i = 1; i < up.length; i++) {
        const candidate = up[(start + i) % up.length] as EndpointHealth;
        if (appeal(candidate) > appeal(best)) best = candidate;
      }
      return best;
    }
    if (up.length > 1) {
      // Two distinct positions, in list order; with two endpoints, both.
      const drawn = Math.floor(Math.random() * up.length);
      const other = (drawn + 1 + Math.floor(Math.random() * (up.length - 1))) % up.length;
      const a = up[Math.min(drawn, other)] as EndpointHealth;
      const b = up[Math.max(drawn, other)] as EndpointHealth;
      // Equals take turns, so that connections opened together spread.
      const tie = appeal(a) === appeal(b);
      const better = tie ? (this.#turn++ % 2 === 0 ? a : b) : appeal(b) > appeal(a) ? b : a;
      if (better.room === undefined || better.room > 0) return better;
      return up.reduce((best, health) => (appeal(health) > appeal(best) ? health : best));
    }
    // Probing: the one tried least recently, so that every server gets its turn.
    return listed.reduce((oldest, health) =>
      health.lastTried < oldest.lastTried ? health : oldest,
    );
  }

  /** Starts a connection attempt; false when there is no listed endpoint to try. */
  #connect(): boolean {
    if (!this.#anyListed()) return false;
    const health = this.#pickEndpoint();
    health.lastTried = performance.now();
    const attempt = ++this.#attempts;
    this.#connecting++;
    health.connecting++;
    if (health.room !== undefined) health.room--;
    this.#open(health.endpoint, {
      onClosed: (connection, error) => this.#onClosed(connection, health, error),
      onRetire: (connection) => this.#onRetire(connection),
    }).then(
      (connection) => {
        this.#connecting--;
        health.connecting--;
        this.#connected++;
        health.downSince = 0;
        health.failures = 0;
        health.lastError = undefined;
        health.connections++;
        if (this.#failing) {
          // The others failed while none answered, and got no timer to try them again:
          // tried again now, they are spread over as they answer.
          for (const other of this.#endpoints) other.downSince = 0;
        }
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
      (error: unknown) => {
        this.#connecting--;
        health.connecting--;
        this.#connectFailures++;
        health.failures++;
        health.lastError = error;
        health.lastAttempt = attempt;
        debug(
          'connection attempt to %s failed: %s',
          formatEndpoint(health.endpoint),
          describeConnectError(error),
        );
        this.#onConnectFailed(health, attempt);
      },
    );
    return true;
  }

  /**
   * While another endpoint answers, fill from it and try this one again later. When none
   * answers, probe with one connection at a time: first after `reconnect.first`, then every
   * `reconnect.every`, for as long as workers are wanted.
   */
  #onConnectFailed(health: EndpointHealth, attempt: number): void {
    health.downSince ||= Date.now();
    if (this.#closed) return;
    if (!health.listed) {
      this.#forgetUnlisted();
      // While probing, this was the probe: the next one is due.
      if (this.#failing) this.#scheduleProbe(this.#options.reconnect.every);
      else this.#populate();
      return;
    }
    if (this.#listed().some((other) => other.downSince === 0)) {
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
    this.#failWaiters(health, attempt);
    this.#scheduleProbe(
      firstFailure ? this.#options.reconnect.first : this.#options.reconnect.every,
    );
  }

  /**
   * No server can be reached, and the pool holds no connection (one held by a checkout
   * would come back to the pool: worth waiting for). When `attempt`, the attempt on
   * `health` that just failed, was refused with `WORKER_START_FAILED` (or met a worker of an
   * incompatible protocol version), every checkout that was waiting when it began fails
   * with that error: waiting would not help, and a
   * checkout that comes later tries again. Only that attempt counts: an older refusal by
   * another endpoint says nothing about this one (it may be down, or back). Checkouts past
   * their `waitForServer` give up with a `TIMEOUT` saying why.
   */
  #failWaiters(health: EndpointHealth, attempt: number): void {
    if (this.#connections.size > 0) return;
    const { lastError } = health;
    const startFailed =
      isTaskpoolError(lastError) && WAITING_WILL_NOT_HELP.has(lastError.code)
        ? lastError
        : undefined;
    const now = performance.now();
    for (const waiter of [...this.#waiters]) {
      let error: unknown;
      if (startFailed !== undefined && waiter.attemptsBefore < attempt) error = startFailed;
      else if (now >= waiter.giveUpAt) {
        error = this.#timeoutError(
          waiter.waitForServer as number,
          'waiting for a server to answer',
        );
      } else continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.cleanup();
      waiter.reject(error);
    }
  }

  /**
   * The `TIMEOUT` of a checkout that waited `timeout` ms. When connection attempts failed,
   * it says what each endpoint last did (in its message and `data.endpoints`), with the
   * last connect error as its `cause`: `timed out after 30 seconds waiting for a worker:
   * could not connect to unix:/x.sock (ENOENT: no such file or directory; 31 attempts)`.
   * When every server answered (their workers were all busy), it is the bare `TIMEOUT`.
   */
  #timeoutError(timeout: number, waitingFor: string): TimeoutError {
    if (this.#source !== undefined && !this.#anyListed()) {
      const error = this.#discoveryError;
      const why =
        error === undefined
          ? ''
          : ` (reading it failed: ${error instanceof Error ? error.message : String(error)})`;
      return new TimeoutError(timeout, {
        ...(error !== undefined && { cause: error }),
        data: { endpoints: [] },
        detail: `${waitingFor}: no server of ${this.#source} is listed${why}`,
      });
    }
    const failing = this.#endpoints.filter((health) => health.failures > 0);
    if (failing.length === 0) return new TimeoutError(timeout);
    const latest = failing.reduce((last, health) =>
      health.lastAttempt > last.lastAttempt ? health : last,
    );
    const endpoints = this.#endpoints.map((health): EndpointReport => {
      const report: EndpointReport = {
        endpoint: formatEndpoint(health.endpoint),
        attempts: health.failures,
        connections: health.connections,
      };
      if (health.failures > 0) {
        report.error = describeConnectError(health.lastError);
        const { code } = (health.lastError ?? {}) as { code?: unknown };
        if (typeof code === 'string') report.code = code;
      }
      return report;
    });
    const said = endpoints.map((report) => {
      if (report.error !== undefined) {
        const attempts = `${report.attempts} attempt${report.attempts === 1 ? '' : 's'}`;
        return `could not connect to ${report.endpoint} (${report.error}; ${attempts})`;
      }
      if (report.connections > 0) {
        const workers = `${report.connections} worker${report.connections === 1 ? '' : 's'}`;
        return `${report.endpoint} answered (${workers}, all busy)`;
      }
      return `${report.endpoint} not reached yet`;
    });
    return new TimeoutError(timeout, {
      cause: latest.lastError,
      data: { endpoints },
      detail: `${waitingFor}: ${said.join('; ')}`,
    });
  }

  #scheduleProbe(delay: number): void {
    if (this.#reconnectTimer || this.#closed) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#closed || !this.#failing) return;
      // A probe that starts reschedules when it fails; one that cannot (nothing listed) now.
      if (this.#connecting === 0 && this.#wantsConnections() && this.#connect()) return;
      this.#scheduleProbe(this.#options.reconnect.every);
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
    if (!health.listed) this.#forgetUnlisted();
    const index = this.#idle.findIndex((idle) => idle.connection === connection);
    if (index >= 0) this.#idle.splice(index, 1);
    this.#assigned.delete(connection);
    this.#lanes.delete(connection);
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
