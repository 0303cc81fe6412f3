/**
 * The life of a worker process: load the code, run setup, tell the supervisor it is
 * ready, take the one connection it is handed, answer pings (the hung-worker watchdog),
 * ask the supervisor for the server's stats when the client wants them, and exit when the
 * connection is over.
 *
 * @module
 */
import type { Socket } from 'node:net';
import { toWire } from '@taskpool/protocol/internal';
import { CallRunner } from './call-runner.js';
import { createDispatcher, type Dispatcher } from './dispatcher.js';
import { startHangGuard } from './hang-guard.js';
import type { SupervisorMessage, WorkerConfig, WorkerMessage } from './ipc.js';
import { SetupRunner } from './setup-runner.js';
import { SupervisorStats } from './supervisor-stats.js';
import { warmUpConnectionPath } from './warm-up.js';
import { WorkerConnection } from './worker-connection.js';
import type { WorkerDefinition } from './worker-definition.js';

/** Sends to the supervisor; false when there is no channel to send on. */
function send(message: WorkerMessage): boolean {
  if (!process.connected || !process.send) return false;
  process.send(message);
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
  send({ t: 'loaded' });
  const { limits } = config;
  const setup = new SetupRunner(definition.setup, config.workerId, limits.setupTimeout);
  const runner = new CallRunner(dispatcher, setup);
  const supervisorStats = new SupervisorStats(send);
  let connection: WorkerConnection | undefined;
  let pendingRetire: string | undefined;

  const finish = (code: number) => process.exit(code);

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
        else pendingRetire = message.reason;
        return;
      case 'connection': {
        if (connection) {
          (handle as Socket | undefined)?.destroy();
          return;
        }
        if (!handle) {
          // The socket was gone before it could be handed over: this worker will never
          // serve, and the supervisor counts it as serving until it exits.
          finish(0);
          return;
        }
        connection = new WorkerConnection({
          socket: handle as Socket,
          head: message.head === undefined ? undefined : Buffer.from(message.head, 'base64'),
          dispatcher,
          runner,
          checkoutDone: definition.checkoutDone,
          workerId: config.workerId,
          serverName: config.serverName,
          limits,
          serverStats: () => supervisorStats.request(),
          onFinished: finish,
        });
        if (pendingRetire !== undefined) connection.retire(pendingRetire);
        return;
      }
    }
  });
  // Without a supervisor a spare has nothing to wait for; a serving worker finishes its
  // connection (so clients keep their workers across a server restart).
  process.on('disconnect', () => {
    supervisorStats.disconnected();
    if (!connection) finish(0);
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
  void setup.warm().then(() => {
    guard?.arm();
    send({ t: 'ready' });
    return warmUpConnectionPath();
  });
  return new Promise<never>(() => {});
}
