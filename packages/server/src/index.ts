/**
 * `@taskpool/server`: a supervisor that hands each connection to a dedicated worker
 * process, with warm spares, recycling, a hung-worker watchdog, rolling restarts and
 * graceful close.
 *
 * @module
 */

export type { HandlerContext } from '@taskpool/protocol';
export { currentContext } from './call-context.js';
export {
  type ForkedServer,
  type ForkServerOptions,
  forkTaskServer,
} from './fork-task-server.js';
export { isWorker } from './ipc.js';
export type { ServerOptions } from './options.js';
export { createServer, type TaskServer } from './server.js';
export type { CloseOptions, ServerStats } from './supervisor.js';
export {
  defineWorker,
  type HandlerRecord,
  type InterfaceFunction,
  type ServerInterface,
  type WorkerDefinition,
} from './worker-definition.js';
