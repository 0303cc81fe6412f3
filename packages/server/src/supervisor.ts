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
  isImplementation,
  parseEndpoint,
  ServerBusyError,
  type ServerStatsSnapshot,
  type WorkerStartFailedError,
} from '@taskpool/protocol';
import {
  FRAME_HEADER_BYTES,
  fromWire,
  OPENING_MAX_FRAME_BYTES,
  optionError,
} from '@taskpool/protocol/internal';
import { channels, type WorkerExitReason } from './diagnostics.js';
import type { WorkerConfig, WorkerSecrets, WorkerSecurity } from './ipc.js';
import { guardListen } from './listen-guard.js';
import { openListener } from './listener.js';
import { type ServerLogger, stderrLogger } from './logger.js';
import { MetricsEndpoint } from './metrics-endpoint.js';
import type { OpeningRejection } from './opening-exchange.js';
import { type ResolvedServerOptions, resolveCloseOptions } from './options.js';
import { RegistryListing, type ServerReport } from './registry-listing.js';
import { installSignals } from './signals.js';
import { SpawnPacer } from './spawn-pacer.js';
import { cannotLoad, didNotStart } from './start-failure.js';
import { SupervisorMetrics } from './supervisor-metrics.js';
import { serverVersion } from './version.js';
import { type DropReason, WaitingRoom } from './waiting-room.js';
import { Watchdog } from './watchdog.js';
import { WorkerHandle, type WorkerState } from './worker-handle.js';
import { readWorkerSecrets } from './worker-secrets.js';

/**
 * Counts of the supervisor's workers and waiting connections, its uptime and version, and
 * (unless `metrics: false`) its `metrics`: the same a client gets with a `stats` request,
 * `co.serverStats()`.
 */
export type ServerStats = ServerStatsSnapshot;

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
/**
 * What a worker may take to load its code, on top of `setupTimeout`, before it is killed.
 * With `setupTimeout: null` setup has no limit, but loading still has this one: without it
 * code that blocks while it loads would leave `listen()` waiting forever.
 */
const LOAD_ALLOWANCE_MS = 10_000;
/** The most a TLS client may send before it has a worker: a ClientHello, with room. */
const MAX_CLIENT_HELLO_BYTES = 64 * 1024;
/** Consecutive start failures after which waiting connections are refused. */
const REFUSE_AFTER_FAILURES = 2;

/** A promise with its settle functions, for `listen()` to wait for a first worker's code. */
interface FirstLoad {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

function firstLoad(): FirstLoad {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Unobserved until listen() has its listener: a failure before then is not unhandled.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** Why a worker exited, from why it was asked to stop, if it was, and how it ended. */
function exitReason(
  stopReason: WorkerHandle['stopReason'],
  failedToStart: boolean,
  previous: WorkerState,
  code: number | null,
): WorkerExitReason {
  if (failedToStart || stopReason === 'start-timeout') return 'start-failed';
  if (stopReason === 'hung') return 'killed-hung';
  if (stopReason !== undefined) return stopReason;
  // A serving worker exits 0 when its client has gone (or it retired); any other exit
  // nobody asked for is a crash.
  return previous === 'serving' && code === 0 ? 'finished' : 'crashed';
}

/**
 * The hash of the interface given to createServer itself, announced before a worker has
 * loaded; null for a plain record of handlers or a worker module. With a registry, a
 * server whose hash only a worker can tell must keep a spare: until one loads, clients
 * built with an interface would not know it serves theirs.
 */
function inProcessHash(options: ResolvedServerOptions, what: string): string | null {
  const given = options.interface;
  if (isImplementation(given)) return given.interface.describe().hash;
  if (options.registry && options.spares === 0 && options.workerModule !== undefined) {
    throw optionError(
      what,
      'spares',
      'at least 1 with a registry and a worker module (a loaded worker tells the interface hash announced to clients)',
      0,
    );
  }
  return null;
}

/** Addresses a server may listen on but no client can connect to. */
/** An address a server may listen on but no client can connect to: every address. */
function isWildcard(host: string): boolean {
  return host === '' || host === '0.0.0.0' || /^[0:]+$/.test(host);
}

/**
 * Where a server with a `registry` tells clients to connect: `advertise` (TLS when the
 * server speaks it), or undefined for the listening endpoint itself, which a listener on
 * every address (0.0.0.0) cannot be.
 */
function advertisedEndpoint(
  options: ResolvedServerOptions,
  listening: Endpoint,
  what: string,
): Endpoint | undefined {
  if (options.advertise !== undefined && !options.registry) {
    throw optionError(
      what,
      'advertise',
      'a registry to announce it in (option registry)',
      options.advertise,
    );
  }
  if (options.advertise === undefined) {
    if (options.registry && listening.kind === 'tcp' && isWildcard(listening.host)) {
      throw optionError(
        what,
        'advertise',
        `the address clients reach this server at, to announce in its registry (it listens on ${formatEndpoint(listening)}, every address)`,
        undefined,
      );
    }
    return undefined;
  }
  const advertised = parseEndpoint(options.advertise as never);
  if (advertised.kind === 'tcp' && (isWildcard(advertised.host) || advertised.port === 0)) {
    throw optionError(
      what,
      'advertise',
      'an address and port clients can connect to (not every address, not port 0)',
      options.advertise,
    );
  }
  return advertised.kind === 'tcp' && listening.kind === 'tcp' && listening.tls
    ? { ...advertised, tls: true }
    : advertised;
}

function workerMainScript(): string {
  const here = fileURLToPath(import.meta.url);
  return fileURLToPath(new URL(`./worker-main${extname(here)}`, import.meta.url));
}

export class Supervisor {
  readonly #options: ResolvedServerOptions;
  /** The entry point that made it, as option errors name it: `createServer`, `forkTaskServer`. */
  readonly #what: string;
  readonly #endpoint: Endpoint;
  /** Where clients reach this server, as its `registry` entry says (option `advertise`). */
  readonly #advertised: Endpoint | undefined;
  /**
   * The `listen` option as a string, as a worker re-executing the entry script formats it,
   * to know which createServer call is its own (without the `tls` this adds for `tls: {}`).
   */
  readonly #listenAs: string;
  readonly #workers = new Set<WorkerHandle>();
  readonly #waiting: WaitingRoom;
  readonly #watchdog: Watchdog;
  readonly #pacer: SpawnPacer;
  #listener: Server | undefined;
  /** The `metricsPort` listener, while listening. */
  #metricsEndpoint: MetricsEndpoint | undefined;
  #listening: Promise<Endpoint> | undefined;
  /** listen() was called (and has not failed): spares are kept. */
  #started = false;
  #nextWorkerId = 1;
  #generation = 0;
  #spawned = 0;
  #killedHung = 0;
  #startFailures = 0;
  #consecutiveStartFailures = 0;
  #lastStartError: string | null = null;
  /** When listen() was called: epoch ms (for people), and `performance.now()` (for uptime). */
  #startedAt: { epoch: number; monotonic: number } | undefined;
  /** The last start failure written to stderr: each kind is written once, not per worker. */
  #reportedStartError: string | undefined;
  /** What listen() waits for: a first worker whose code loads, or fails to. */
  #firstLoad: FirstLoad | undefined;
  #closing: Promise<void> | undefined;
  #exitWaiters: (() => void)[] = [];
  #removeSignals: (() => void) | undefined;
  /** How workers treat the connections they are handed. */
  readonly #security: WorkerSecurity;
  /** What workers are sent once loaded; read again on a rolling restart. */
  #secrets: WorkerSecrets | undefined;
  /** Connections turned away before they were served, by reason. */
  readonly #rejected: Record<string, number> = {};
  /** Connections held (waiting or served) by remote address, with `maxConnectionsPerPeer`. */
  readonly #peers = new Map<string, number>();
  /** The remote address each counted waiting connection was counted under. */
  readonly #peerOf = new WeakMap<Socket, string>();
  readonly #logger: ServerLogger;
  /** The generation of the rolling restart under way, until its old workers have exited. */
  #restarting: number | undefined;
  /** What `stats().metrics` reads; undefined with `metrics: false`. */
  readonly #metrics: SupervisorMetrics | undefined;
  /**
   * The interface hash the newest loaded worker reported, and that worker's generation;
   * before any, the hash of the interface given in-process (generation -1), if one was.
   */
  #interfaceOf: { generation: number; hash: string | null };
  /** This server's entry in its `registry`, while listed. */
  #listing: RegistryListing | undefined;

  constructor(options: ResolvedServerOptions, what = 'createServer') {
    this.#options = options;
    this.#what = what;
    this.#logger = options.logger ?? stderrLogger;
    this.#metrics = options.metrics ? new SupervisorMetrics() : undefined;
    const endpoint = parseEndpoint(options.listen as never);
    if (endpoint.kind === 'unix' && options.tls !== undefined) {
      throw optionError(
        what,
        'tls',
        'no TLS on a Unix socket (its file mode already says who may connect)',
        options.tls,
      );
    }
    if (endpoint.kind === 'tcp' && endpoint.tls && options.tls === undefined) {
      throw optionError(
        what,
        'tls',
        `a key and certificate ({ key, cert }) to listen on ${formatEndpoint(endpoint)}`,
        undefined,
      );
    }
    if (options.tls?.requestCert && options.tls.ca === undefined) {
      // Without ca, client certificates would be checked against the system's CAs: any
      // certificate a public CA signed would pass as an authenticated peer.
      throw optionError(
        what,
        'tls.ca',
        'the CA certificates client certificates must chain to, with requestCert',
        undefined,
      );
    }
    const tls = endpoint.kind === 'tcp' && options.tls !== undefined;
    this.#endpoint = tls ? { ...endpoint, tls: true } : endpoint;
    this.#advertised = advertisedEndpoint(options, this.#endpoint, what);
    this.#interfaceOf = { generation: -1, hash: inProcessHash(options, what) };
    this.#listenAs = formatEndpoint(endpoint);
    this.#security = {
      transport: endpoint.kind,
      tls:
        tls && options.tls
          ? { requestCert: options.tls.requestCert, minVersion: options.tls.minVersion }
          : null,
      auth: options.auth !== undefined,
      handshakeTimeout: options.handshakeTimeout,
      errorStacks: options.errorStacks,
    };
    this.#secrets = readWorkerSecrets(options, what);
    this.#pacer = new SpawnPacer(options.spawnInterval);
    this.#waiting = new WaitingRoom({
      timeout: options.connectionTimeout,
      // A client sends its `open` (or its TLS ClientHello) and waits: a stranger cannot
      // make the supervisor hold more than that.
      maxHeadBytes: tls ? MAX_CLIENT_HELLO_BYTES : OPENING_MAX_FRAME_BYTES + FRAME_HEADER_BYTES,
      // The supervisor cannot speak TLS: a TLS client is refused with a bare close.
      plaintext: !tls,
      silentTimeout: options.handshakeTimeout,
      refusal: () =>
        new ServerBusyError(
          `no worker became free within ${options.connectionTimeout} ms (maxWorkers ${options.maxWorkers})`,
        ),
      onDropped: (socket, reason) => this.#dropped(socket, reason),
    });
    const { setupTimeout } = options;
    this.#watchdog = new Watchdog({
      hungTimeout: options.hungWorkerTimeout,
      startTimeout: setupTimeout === null ? null : setupTimeout + LOAD_ALLOWANCE_MS,
      loadTimeout: setupTimeout === null ? LOAD_ALLOWANCE_MS : null,
      workers: () => this.#workers,
      onHung: (worker, silent) => {
        if (worker.stopReason === 'hung') return;
        this.#killedHung++;
        this.#logger.warn(
          { workerId: worker.id, pid: worker.pid, silentMs: Math.round(silent) },
          `killing hung worker ${worker.id} (pid ${worker.pid}): no answer for ${Math.round(silent)} ms`,
        );
        worker.stop('hung', 'SIGKILL');
      },
      // Reported once it has exited, as a start failure (see #failedStart).
      onStartTimeout: (worker) => worker.stop('start-timeout', 'SIGKILL'),
    });
  }

  /** Where `metricsPort` serves, as `http://host:port/metrics`, while it does; else null. */
  get metricsUrl(): string | null {
    return this.#metricsEndpoint?.url ?? null;
  }

  /** What this server announces in its registry: where to reach it, what it serves, how busy it is. */
  #report(): ServerReport {
    const counts = this.#counts();
    return {
      endpoint: formatEndpoint(this.#advertised ?? this.endpoint),
      version: counts.version ?? 'unknown',
      interfaceHash: this.#interfaceOf.hash,
      maxWorkers: this.#options.maxWorkers,
      spare: counts.spares,
      busy: counts.serving,
      waiting: counts.waitingConnections,
    };
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
    const counts = this.#counts();
    return this.#metrics ? { ...counts, metrics: this.#metrics.snapshot() } : counts;
  }

  /** The counts of `stats()`, without the metrics (which take summing up). */
  #counts(): ServerStatsSnapshot {
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
      startFailures: this.#startFailures,
      consecutiveStartFailures: this.#consecutiveStartFailures,
      lastStartError: this.#lastStartError,
      startedAt: this.#startedAt?.epoch ?? null,
      uptime:
        this.#startedAt === undefined
          ? null
          : Math.round(performance.now() - this.#startedAt.monotonic),
      version: serverVersion(),
      rejected: { ...this.#rejected },
    };
  }

  listen(): Promise<Endpoint> {
    if (this.#closing) return Promise.reject(new ClosedError('server'));
    this.#listening ??= this.#listen();
    return this.#listening;
  }

  async #listen(): Promise<Endpoint> {
    // Spares start while the socket is opened, not after: a worker takes longer to start
    // than the listener, and the first connection waits for one. Without spares no worker
    // starts before the first connection, so there is no first load to wait for.
    this.#started = true;
    this.#startedAt = { epoch: Date.now(), monotonic: performance.now() };
    // Installed first: a SIGTERM while the first worker loads (forkTaskServer's start
    // timeout sends one) closes the server, which stops and reaps its workers, instead of
    // killing it and leaving them behind.
    if (this.#options.handleSignals) {
      this.#removeSignals = installSignals({
        close: () => void this.close(),
        restart: () => this.restart(),
      });
    }
    const loading = this.#options.spares > 0 ? firstLoad() : undefined;
    this.#firstLoad = loading;
    this.#fill();
    let listener: Server;
    try {
      await guardListen(
        this.#endpoint,
        {
          tls: this.#security.tls !== null,
          auth: this.#security.auth,
          insecure: this.#options.insecure,
        },
        this.#what,
      );
      listener = await openListener(this.#endpoint, this.#options.socketMode, this.#what);
    } catch (error) {
      await this.#abandonListen();
      throw error;
    }
    if (this.#closing) {
      listener.close();
      throw new ClosedError('server');
    }
    this.#listener = listener;
    listener.on('connection', (socket) => this.#accept(socket));
    listener.on('error', (error) => {
      this.#logger.error({ err: error }, `listener error: ${error.message}`);
    });
    this.#watchdog.start();
    await this.#openMetricsEndpoint();
    if (loading) {
      // Code that cannot load fails listen() with its error, rather than leaving a server
      // that looks healthy while its workers crash one after another.
      try {
        await loading.promise;
      } catch (error) {
        if (!this.#closing) await this.#abandonListen(error as WorkerStartFailedError);
        throw error;
      }
    }
    if (this.#options.registry && !this.#closing) {
      try {
        this.#listing = new RegistryListing(
          this.#options.registry,
          () => this.#report(),
          this.#logger,
        );
      } catch (error) {
        // A registry that throws at once: nothing is left running behind a failed listen().
        await this.#abandonListen();
        throw error;
      }
    }
    return this.endpoint;
  }

  /**
   * listen() failed: closes the listener and removes its socket file, refuses whoever
   * connected meanwhile, stops the workers and waits until every one has exited, so that
   * nothing is left running. listen() may be called again once it has: until then a call
   * gets this failing listen(), as a new one would start workers this one then kills.
   */
  async #abandonListen(error?: WorkerStartFailedError): Promise<void> {
    this.#started = false;
    this.#startedAt = undefined;
    this.#removeSignals?.();
    this.#removeSignals = undefined;
    this.#firstLoad = undefined;
    this.#pacer.reset();
    this.#watchdog.stop();
    const listener = this.#listener;
    this.#listener = undefined;
    if (listener) this.#closeListener(listener);
    await this.#closeMetricsEndpoint();
    if (error) this.#waiting.refuseAll(error);
    this.#waiting.closeAll();
    for (const worker of this.#workers) worker.stop('listen-failed');
    if (!(await this.#allExited(KILL_GRACE_MS))) {
      for (const worker of this.#workers) worker.stop('listen-failed', 'SIGKILL');
      await this.#allExited(KILL_GRACE_MS * 5);
    }
    this.#listening = undefined;
  }

  #closeListener(listener: Server): void {
    // Not awaited: its callback waits for every connection ever accepted, and handed-off
    // ones belong to the workers.
    listener.close();
    if (this.#endpoint.kind === 'unix') {
      try {
        unlinkSync(this.#endpoint.path);
      } catch {
        // Already gone: libuv unlinks it on close.
      }
    }
  }

  /** Replaces every worker with one running fresh code: spares at once, busy ones when idle. */
  restart(): void {
    if (this.#closing) return;
    try {
      this.#secrets = readWorkerSecrets(this.#options, this.#what);
    } catch (error) {
      this.#logger.warn(
        { err: error },
        `restart keeps the TLS and auth secrets it had: ${(error as Error).message}`,
      );
    }
    this.#generation++;
    this.#restarting = this.#generation;
    this.#logger.info({ generation: this.#generation }, 'rolling restart begun');
    if (channels.restartBegun.hasSubscribers) {
      channels.restartBegun.publish({
        endpoint: formatEndpoint(this.endpoint),
        generation: this.#generation,
      });
    }
    // Nothing of an older generation (a server with no worker yet): over at once.
    queueMicrotask(() => this.#restartOver());
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

  close(options?: CloseOptions): Promise<void> {
    let timeout: number;
    try {
      ({ timeout } = resolveCloseOptions(options));
    } catch (error) {
      // close() returns a promise: a bad option rejects it rather than throwing.
      return Promise.reject(error);
    }
    this.#closing ??= this.#close(timeout);
    return this.#closing;
  }

  async #close(timeout: number): Promise<void> {
    // Off the registry first: clients stop choosing this server while it drains.
    const withdrawn = this.#listing?.withdraw();
    this.#removeSignals?.();
    this.#pacer.cancel();
    this.#firstLoad?.reject(new ClosedError('server'));
    this.#firstLoad = undefined;
    const listener = this.#listener;
    if (listener) this.#closeListener(listener);
    this.#waiting.closeAll();
    for (const worker of this.#workers) {
      if (worker.state === 'serving') worker.retire('close');
      else worker.stop('close');
    }
    // A worker that serves no one (spare, or still loading its code) has nothing to finish:
    // one that ignores SIGTERM is killed after the grace, not after the close's deadline,
    // so that a close (a forked server's after its start timeout, say) reaps it in time.
    const idleKiller = setTimeout(() => {
      for (const worker of this.#workers) {
        if (worker.state !== 'serving') worker.stop('close', 'SIGKILL');
      }
    }, KILL_GRACE_MS);
    idleKiller.unref();
    const exitedInTime = await this.#allExited(timeout);
    clearTimeout(idleKiller);
    if (!exitedInTime) {
      for (const worker of this.#workers) worker.stop('close');
      if (!(await this.#allExited(KILL_GRACE_MS))) {
        for (const worker of this.#workers) worker.stop('close', 'SIGKILL');
        await this.#allExited(KILL_GRACE_MS * 5);
      }
    }
    this.#watchdog.stop();
    await withdrawn;
    // Last: a scraper sees the close through to its end.
    await this.#closeMetricsEndpoint();
  }

  /** Opens the `metricsPort` listener, if asked for; a failure fails listen(). */
  async #openMetricsEndpoint(): Promise<void> {
    const { metricsPort, metricsHost } = this.#options;
    if (metricsPort === null) return;
    let endpoint: MetricsEndpoint;
    try {
      endpoint = await MetricsEndpoint.open(
        metricsPort,
        metricsHost,
        () => this.stats(),
        this.#what,
        this.#logger,
      );
    } catch (error) {
      if (!this.#closing) await this.#abandonListen();
      throw error;
    }
    if (this.#closing) {
      // close() came while it opened, and may have finished: nothing else would close it.
      await endpoint.close();
      throw new ClosedError('server');
    }
    this.#metricsEndpoint = endpoint;
  }

  async #closeMetricsEndpoint(): Promise<void> {
    const endpoint = this.#metricsEndpoint;
    this.#metricsEndpoint = undefined;
    await endpoint?.close();
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
    if (!this.#admitPeer(socket)) return;
    const spare = this.#takeSpare();
    if (spare) {
      this.#handOff(spare, socket, this.#metrics ? performance.now() : 0);
      return;
    }
    const max = this.#options.maxWaitingConnections;
    if (this.#waiting.size >= max) {
      this.#reject('waiting-full', socket.remoteAddress);
      this.#peerLeft(this.#peerOf.get(socket));
      this.#waiting.refuse(
        socket,
        new ServerBusyError(
          `${max} connections already wait for a worker (maxWaitingConnections ${max})`,
        ),
      );
      return;
    }
    this.#waiting.add(socket);
    if (channels.connectionWaiting.hasSubscribers) {
      channels.connectionWaiting.publish({
        endpoint: formatEndpoint(this.endpoint),
        waiting: this.#waiting.size,
      });
    }
    this.#fill();
  }

  /**
   * Counts the connection under its remote address, or refuses it when that address holds
   * `maxConnectionsPerPeer` already.
   */
  #admitPeer(socket: Socket): boolean {
    const limit = this.#options.maxConnectionsPerPeer;
    const address = socket.remoteAddress;
    if (limit === null || address === undefined) return true;
    const held = this.#peers.get(address) ?? 0;
    if (held >= limit) {
      this.#reject('peer-limit', address);
      this.#waiting.refuse(
        socket,
        new ServerBusyError(
          `${address} already holds ${held} connections (maxConnectionsPerPeer ${limit})`,
        ),
      );
      return false;
    }
    this.#peers.set(address, held + 1);
    this.#peerOf.set(socket, address);
    return true;
  }

  #peerLeft(address: string | undefined): void {
    if (address === undefined) return;
    const held = (this.#peers.get(address) ?? 1) - 1;
    if (held > 0) this.#peers.set(address, held);
    else this.#peers.delete(address);
  }

  /** Counts a connection turned away, and publishes it. */
  #reject(reason: string, address?: string): void {
    this.#rejected[reason] = (this.#rejected[reason] ?? 0) + 1;
    if (channels.connectionRefused.hasSubscribers) {
      channels.connectionRefused.publish({
        endpoint: formatEndpoint(this.endpoint),
        reason,
        address,
      });
    }
  }

  /** A connection left the waiting room without a worker. */
  #dropped(socket: Socket, reason: DropReason): void {
    if (reason !== 'left') this.#reject(reason, socket.remoteAddress);
    this.#peerLeft(this.#peerOf.get(socket));
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

  /** Gives `socket`, accepted at `acceptedAt` (`performance.now()`), to a spare. */
  #handOff(worker: WorkerHandle, socket: Socket, acceptedAt: number, head?: Buffer): void {
    worker.peerAddress = this.#peerOf.get(socket);
    // Measured only once on its way: a handle that cannot be sent is no connection served.
    if (worker.handOff(socket, head)) this.#metrics?.handedOff(worker, acceptedAt);
    else socket.destroy();
    // The replacement spare is forked on the next turn: fork() blocks this process for
    // milliseconds, and the handle must be on its way first.
    setImmediate(() => this.#fill());
  }

  /** Spawns workers until there are enough spares and every waiting connection is covered. */
  #fill(): void {
    if (this.#closing || !this.#started || this.#pacer.scheduled) return;
    const stats = this.#counts();
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
      endpoint: this.#listenAs,
      limits: {
        maxFrameBytes: options.maxFrameBytes,
        maxRequestsPerWorker: options.maxRequestsPerWorker,
        maxQueuedCalls: options.maxQueuedCalls,
        frameTimeout: options.frameTimeout,
        hungWorkerTimeout: options.hungWorkerTimeout,
        setupTimeout: options.setupTimeout,
      },
      security: this.#security,
      metrics: this.#metrics !== undefined,
      workerModule: workerModule === undefined ? null : String(workerModule),
    };
    // resolveServerOptions refused a missing workerModule where there is no entry script.
    const entry = process.argv[1];
    this.#spawned++;
    const worker = new WorkerHandle({
      config,
      script: workerModule === undefined ? (entry as string) : workerMainScript(),
      execArgv: this.#options.execArgv ?? process.execArgv,
      env: (this.#options.env as NodeJS.ProcessEnv | undefined) ?? process.env,
      generation: this.#generation,
      onLoaded: (loaded, interfaceHash) => this.#onLoaded(loaded, interfaceHash),
      onReady: (ready) => this.#onReady(ready),
      // A worker asks for its client (a `stats` request): it gets them even while closing.
      onStatsRequest: (asking, id) => asking.answerStats(id, this.stats()),
      onMetrics: (report) => this.#metrics?.reported(report),
      secrets: () => this.#secrets,
      onReleased: (released, reason) => this.#onReleased(released, reason),
      onExit: (exited, code, signal, previous) => this.#onExit(exited, code, signal, previous),
    });
    this.#workers.add(worker);
    if (channels.workerSpawned.hasSubscribers) {
      channels.workerSpawned.publish({
        endpoint: formatEndpoint(this.endpoint),
        workerId: worker.id,
        pid: worker.pid,
      });
    }
  }

  #onLoaded(worker: WorkerHandle, interfaceHash: string | null): void {
    // The newest code says which interface the server serves (a rolling restart may load
    // another): announced to clients that discover servers (option registry).
    if (worker.generation >= this.#interfaceOf.generation) {
      this.#interfaceOf = { generation: worker.generation, hash: interfaceHash };
    }
    this.#resolveFirstLoad();
  }

  #resolveFirstLoad(): void {
    this.#firstLoad?.resolve();
    this.#firstLoad = undefined;
  }

  #onReady(worker: WorkerHandle): void {
    this.#resolveFirstLoad();
    this.#pacer.started();
    if (channels.workerReady.hasSubscribers) {
      channels.workerReady.publish({
        endpoint: formatEndpoint(this.endpoint),
        workerId: worker.id,
        pid: worker.pid,
        ms: worker.age(performance.now()),
      });
    }
    if (this.#consecutiveStartFailures > 0) {
      if (channels.workerStartRecovered.hasSubscribers) {
        channels.workerStartRecovered.publish({
          endpoint: formatEndpoint(this.endpoint),
          workerId: worker.id,
          pid: worker.pid,
          failures: this.#consecutiveStartFailures,
        });
      }
      this.#consecutiveStartFailures = 0;
      this.#reportedStartError = undefined;
    }
    if (this.#closing) {
      worker.stop('close');
      return;
    }
    this.#employ(worker);
  }

  /**
   * A worker's connection ended in its opening exchange (a stranger, a failed handshake,
   * a client that left): nothing ran for it, so it serves the next connection.
   */
  #onReleased(worker: WorkerHandle, reason: OpeningRejection): void {
    this.#metrics?.serviceEnded(worker);
    if (reason !== 'closed') this.#reject(reason, worker.peerAddress);
    this.#peerLeft(worker.peerAddress);
    worker.peerAddress = undefined;
    // Asked to retire (a restart, a close) just as it was released: it serves no one, and
    // would otherwise run on uncounted.
    if (worker.stopReason !== undefined) {
      worker.stop(worker.stopReason);
      return;
    }
    if (this.#closing) {
      worker.stop('close');
      return;
    }
    this.#employ(worker);
  }

  /** A worker is a spare: it takes the oldest waiting connection, or waits as a spare. */
  #employ(worker: WorkerHandle): void {
    if (worker.generation < this.#generation) {
      worker.stop('restart');
      return;
    }
    const waiting = this.#waiting.take();
    if (waiting) {
      this.#handOff(worker, waiting.socket, waiting.acceptedAt, waiting.head);
    } else if (this.#counts().spares > this.#options.spares) {
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
    // Any other exit before it was ready is a failed start, whatever its code: code that
    // calls process.exit(0) while it loads (or a single-file server's script that ends
    // without serving) would otherwise be forked again at once, forever, and listen()
    // would wait for it forever.
    const { stopReason } = worker;
    const failedToStart =
      previous === 'starting' && (stopReason === undefined || stopReason === 'start-timeout');
    this.#workers.delete(worker);
    this.#peerLeft(worker.peerAddress);
    worker.peerAddress = undefined;
    let reason = exitReason(stopReason, failedToStart, previous, code);
    if (reason === 'crashed' && signal === 'SIGKILL' && this.#silentPastHalf(worker)) {
      // Its own hang guard killed it (each worker watches itself from a thread) before
      // this process's watchdog did: hung all the same.
      reason = 'killed-hung';
      this.#killedHung++;
      this.#logger.warn(
        { workerId: worker.id, pid: worker.pid },
        `hung worker ${worker.id} (pid ${worker.pid}) was killed by its own hang guard`,
      );
    }
    this.#metrics?.exited(worker, reason);
    if (reason === 'crashed') {
      this.#logger.info(
        { workerId: worker.id, pid: worker.pid, code, signal, state: previous },
        `worker ${worker.id} (pid ${worker.pid}) exited unasked with ${signal ?? `code ${code}`}`,
      );
    }
    if (channels.workerExited.hasSubscribers) {
      channels.workerExited.publish({
        endpoint: formatEndpoint(this.endpoint),
        workerId: worker.id,
        pid: worker.pid,
        reason,
        code,
        signal,
      });
    }
    if (failedToStart) this.#failedStart(worker, code, signal);
    this.#restartOver();
    for (const waiter of [...this.#exitWaiters]) waiter();
    this.#fill();
  }

  /**
   * The worker had not answered for half of `hungWorkerTimeout` or more: the most a pinged
   * worker that blocks for the whole timeout can have answered within (see watchdog.ts).
   */
  #silentPastHalf(worker: WorkerHandle): boolean {
    const timeout = this.#options.hungWorkerTimeout;
    return timeout !== null && worker.silentFor(performance.now()) >= timeout / 2;
  }

  /** The rolling restart under way is over once no worker of an older generation is left. */
  #restartOver(): void {
    const generation = this.#restarting;
    if (generation === undefined) return;
    for (const worker of this.#workers) if (worker.generation < generation) return;
    this.#restarting = undefined;
    this.#logger.info({ generation }, 'rolling restart ended');
    if (channels.restartEnded.hasSubscribers) {
      channels.restartEnded.publish({ endpoint: formatEndpoint(this.endpoint), generation });
    }
  }

  /** Where workers get their code: the worker module, or the re-executed entry script. */
  get #workerCode(): string {
    const { workerModule } = this.#options;
    return workerModule === undefined
      ? (process.argv[1] ?? 'the entry script')
      : String(workerModule);
  }

  /** Why the watchdog killed a starting worker, in words. */
  #startTimeoutReason(): string {
    const { setupTimeout } = this.#options;
    if (setupTimeout === null) {
      return `a worker was killed: its code had not loaded ${LOAD_ALLOWANCE_MS} ms after it was started (with setupTimeout null only setup has no limit)`;
    }
    return `a worker was killed: not ready ${setupTimeout + LOAD_ALLOWANCE_MS} ms after it was started (setupTimeout ${setupTimeout} ms, plus ${LOAD_ALLOWANCE_MS} ms to load its code)`;
  }

  /**
   * A worker exited (or was killed) before it was ready. A first one fails listen(); later
   * ones are counted, published, written to stderr once per kind (the message names no
   * worker, so a crash loop repeats it), refused to the connections waiting for a worker
   * from the second in a row, and back off further spawns.
   */
  #failedStart(worker: WorkerHandle, code: number | null, signal: NodeJS.Signals | null): void {
    const { loadError } = worker;
    const error = loadError
      ? cannotLoad(this.#workerCode, fromWire(loadError, { foreign: 'plain' }))
      : didNotStart(
          this.#workerCode,
          worker.stopReason === 'start-timeout'
            ? this.#startTimeoutReason()
            : `a worker exited with ${signal ?? `code ${code}`} before it was ready`,
        );
    this.#startFailures++;
    this.#consecutiveStartFailures++;
    this.#lastStartError = error.message;
    this.#pacer.failedStart();
    if (channels.workerStartFailed.hasSubscribers) {
      channels.workerStartFailed.publish({
        endpoint: formatEndpoint(this.endpoint),
        workerId: worker.id,
        pid: worker.pid,
        error,
        consecutiveFailures: this.#consecutiveStartFailures,
        retryIn: this.#pacer.backoff,
      });
    }
    if (this.#closing) return;
    const first = this.#firstLoad;
    if (first) {
      // listen() rejects with it: the caller has the error, stderr need not.
      this.#firstLoad = undefined;
      first.reject(error);
      return;
    }
    if (error.message !== this.#reportedStartError) {
      this.#reportedStartError = error.message;
      this.#logger.error(
        { err: error, workerId: worker.id, consecutiveFailures: this.#consecutiveStartFailures },
        `WORKER_START_FAILED: ${error.message}; retrying with backoff (repeats of this failure are not written)`,
      );
    }
    // One failure may be chance (a worker killed while it started): the connections
    // waiting get the next worker. Two in a row mean the code itself fails.
    if (this.#consecutiveStartFailures >= REFUSE_AFTER_FAILURES) this.#waiting.refuseAll(error);
  }
}
