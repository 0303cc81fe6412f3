/**
 * The life of a worker process: load the code, run setup (and, with TLS or `auth`, receive
 * its secrets), tell the supervisor it is ready, take the connection it is handed through
 * its opening exchange (one that fails there leaves the worker a spare again, as nothing
 * ran for it), answer pings (the hung-worker watchdog), ask the supervisor for the
 * server's stats when the client wants them, and exit when the connection is over.
 *
 * @module
 */
import type { Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { type Peer, PROTOCOL_VERSION } from '@taskpool/protocol';
import { type HelloMessage, toWire } from '@taskpool/protocol/internal';
import { CallRunner } from './call-runner.js';
import { createDispatcher, type Dispatcher } from './dispatcher.js';
import { startHangGuard } from './hang-guard.js';
import type { SupervisorMessage, WorkerConfig, WorkerMessage, WorkerSecrets } from './ipc.js';
import { OpeningExchange, type OpeningSecurity } from './opening-exchange.js';
import { SetupRunner } from './setup-runner.js';
import { SupervisorStats } from './supervisor-stats.js';
import { warmUpConnectionPath } from './warm-up.js';
import { WorkerConnection } from './worker-connection.js';
import type { WorkerDefinition } from './worker-definition.js';
import { WorkerMetrics } from './worker-metrics.js';

/**
 * Called when a message could not be sent: the channel broke (the supervisor is gone)
 * between the check and the write. Set by `runWorker`.
 */
let onSendFailed: () => void = () => {};

/** Sends to the supervisor; false when there is no channel to send on. */
function send(message: WorkerMessage): boolean {
  if (!process.connected || !process.send) return false;
  // With a callback a failed write (EPIPE: the supervisor died just now) is reported
  // there, instead of as an 'error' event that would crash the worker.
  process.send(message, undefined, undefined, (error) => {
    if (error) onSendFailed();
  });
  return true;
}

/**
 * The worker's code cannot load: tells the supervisor why (it reports the error once,
 * instead of every worker of a crash loop printing its stack), then exits.
 */
export function failStart(error: unknown): Promise<never> {
  const exit = () => process.exit(1);
  if (!process.connected || !process.send) exit();
  // Exits once the message is written: exiting at once could lose it.
  else process.send({ t: 'start-failed', error: toWire(error) } satisfies WorkerMessage, exit);
  return new Promise<never>(() => {});
}

/** How often a worker reports the calls it ran to its supervisor. */
const METRICS_REPORT_MS = 1_000;
/** How long an exiting worker waits for its last report to be written. */
const FINAL_REPORT_GRACE_MS = 200;

/** The ALPN protocol a taskpool TLS connection negotiates. */
const ALPN_PROTOCOL = 'taskpool/1';

/** What the opening exchange enforces, once the worker has its secrets (if it needs any). */
function openingSecurity(
  config: WorkerConfig,
  secrets: WorkerSecrets | undefined,
): OpeningSecurity {
  const { security } = config;
  const pem = (base64: string) => Buffer.from(base64, 'base64');
  const tls =
    security.tls && secrets?.tls
      ? {
          server: createTlsServer({
            key: pem(secrets.tls.key),
            cert: pem(secrets.tls.cert),
            ...(secrets.tls.ca === undefined ? {} : { ca: pem(secrets.tls.ca) }),
            minVersion: security.tls.minVersion,
            requestCert: security.tls.requestCert,
            // Checked by the opening exchange, which tells the client why it is refused.
            rejectUnauthorized: false,
            ALPNProtocols: [ALPN_PROTOCOL],
            handshakeTimeout: security.handshakeTimeout,
          }).on('tlsClientError', () => {
            // The socket closes, and the opening exchange says so.
          }),
          requestCert: security.tls.requestCert,
        }
      : undefined;
  const keys =
    security.auth && secrets?.keys
      ? new Map(Object.entries(secrets.keys).map(([id, key]) => [id, pem(key)]))
      : undefined;
  return { transport: security.transport, tls, keys, timeout: security.handshakeTimeout };
}

/** True when `peer` may see error stacks and the interface description. */
function isTrusted(peer: Peer): boolean {
  return peer.authenticated || peer.transport === 'unix';
}

/** Serves as a worker until the connection ends; never resolves (the process exits). */
export function runWorker(definition: WorkerDefinition, config: WorkerConfig): Promise<never> {
  const name = config.serverName ?? 'anonymous';
  try {
    process.title = `taskpool-worker:${name}(${config.workerId})`;
  } catch {
    // Not every platform lets a process rename itself.
  }
  let dispatcher: Dispatcher;
  try {
    dispatcher = createDispatcher(definition.interface);
  } catch (error) {
    return failStart(error);
  }
  const hash = dispatcher.description?.hash;
  send({ t: 'loaded', interfaceHash: typeof hash === 'string' ? hash : null });
  const { limits } = config;
  const setup = new SetupRunner(definition.setup, config.workerId, limits.setupTimeout);
  const runner = new CallRunner(dispatcher, setup, definition.authorize);
  const supervisorStats = new SupervisorStats(send);
  onSendFailed = () => supervisorStats.disconnected();
  const { security } = config;
  const needsSecrets = security.tls !== null || security.auth;
  let opening: OpeningExchange | undefined;
  let connection: WorkerConnection | undefined;
  let pendingRetire: string | undefined;
  let secured: OpeningSecurity | undefined = needsSecrets
    ? undefined
    : openingSecurity(config, undefined);
  let secretsArrived: () => void = () => {};
  const secretsReady = needsSecrets
    ? new Promise<void>((resolve) => {
        secretsArrived = resolve;
      })
    : undefined;

  const metrics = config.metrics ? new WorkerMetrics() : undefined;
  /** Sends what changed since the last report; `then` runs once it is written (or cannot be). */
  const report = (then?: () => void) => {
    const changed = metrics?.takeReport();
    if (changed === undefined || !process.connected || !process.send) {
      then?.();
      return;
    }
    process.send(
      { t: 'metrics', report: changed } satisfies WorkerMessage,
      undefined,
      undefined,
      () => then?.(),
    );
  };
  if (metrics) setInterval(() => report(), METRICS_REPORT_MS).unref();

  /** Exits once the last report is written, or after a moment if it cannot be. */
  const finish = (code: number) => {
    const exit = () => process.exit(code);
    setTimeout(exit, FINAL_REPORT_GRACE_MS).unref();
    report(exit);
  };

  const hello = (peer: Peer, mac: string | undefined): HelloMessage => {
    const message: HelloMessage = {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      pid: process.pid,
      server: config.serverName,
      worker: config.workerId,
      interface: dispatcher.description,
    };
    if (dispatcher.streams.length > 0) message.streams = dispatcher.streams;
    if (mac !== undefined) message.auth = { mac };
    if (message.interface !== null && !isTrusted(peer)) {
      message.interface = null;
      message.interfaceWithheld = true;
    }
    return message;
  };

  const serve = (socket: Socket, head: Buffer | undefined, security: OpeningSecurity) => {
    opening = new OpeningExchange({
      socket,
      head,
      security,
      maxFrameBytes: limits.maxFrameBytes,
      hello,
      onOpen: ({ socket: opened, rest, peer }) => {
        opening = undefined;
        const stacks = config.security.errorStacks;
        connection = new WorkerConnection({
          socket: opened,
          head: rest,
          peer,
          sendStacks: stacks === 'always' || (stacks === 'trusted' && isTrusted(peer)),
          metrics,
          dispatcher,
          runner,
          checkoutDone: definition.checkoutDone,
          workerId: config.workerId,
          limits,
          serverStats: () => supervisorStats.request(),
          onFinished: finish,
        });
        if (pendingRetire !== undefined) connection.retire(pendingRetire);
      },
      onRejected: (reason) => {
        opening = undefined;
        // Nothing ran for that peer: a spare again, unless asked to go meanwhile.
        if (pendingRetire !== undefined || !process.connected) finish(0);
        else send({ t: 'released', reason });
      },
    });
    opening.start();
  };

  process.on('message', (message: SupervisorMessage, handle?: unknown) => {
    switch (message.t) {
      case 'ping':
        send({ t: 'pong' });
        return;
      case 'stats':
        supervisorStats.answer(message.id, message.stats);
        return;
      case 'retire':
        if (connection) connection.retire(message.reason);
        else if (opening) pendingRetire = message.reason;
        // Back to a spare (its opening exchange failed) just as the retire was sent.
        else finish(0);
        return;
      case 'secrets':
        secured ??= openingSecurity(config, message.secrets);
        secretsArrived();
        return;
      case 'connection': {
        if (connection || opening || !secured) {
          (handle as Socket | undefined)?.destroy();
          return;
        }
        if (!handle) {
          // The socket was gone before it could be handed over: this worker will never
          // serve, and the supervisor counts it as serving until it exits.
          finish(0);
          return;
        }
        const head = message.head === undefined ? undefined : Buffer.from(message.head, 'base64');
        serve(handle as Socket, head, secured);
        return;
      }
    }
  });
  // Without a supervisor a spare has nothing to wait for; a serving worker finishes its
  // connection (so clients keep their workers across a server restart).
  process.on('disconnect', () => {
    supervisorStats.disconnected();
    // A connection in its opening exchange is served too, once the exchange is over (if
    // it fails, the worker exits then: there is no supervisor to be a spare for).
    if (!connection && !opening) finish(0);
  });

  // The guard's thread boots while setup and the warm-up run, so that neither the first
  // call nor a measured run pays for it later; it is armed once the worker is ready.
  const guard =
    limits.hungWorkerTimeout === null
      ? undefined
      : startHangGuard(
          limits.hungWorkerTimeout,
          `taskpool worker ${config.workerId} (pid ${process.pid})`,
        );
  // Ready once setup has run; the connection path warms up after, while the spare waits.
  // Before, it made a connection already waiting (the first one, when the server has just
  // started) wait for it too: 15-30 ms in a fresh process, more than it saves the call.
  void Promise.all([setup.warm(), secretsReady]).then(() => {
    guard?.arm();
    send({ t: 'ready' });
    return warmUpConnectionPath();
  });
  return new Promise<never>(() => {});
}
