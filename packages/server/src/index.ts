/**
 * `@taskpool/server`: a supervisor that hands each connection to a dedicated worker
 * process, with warm spares, recycling, a hung-worker watchdog, rolling restarts and
 * graceful close.
 *
 * @module
 */

export type { HandlerContext } from '@taskpool/protocol';
// Every error class, the guard and the code table, as docs/errors.md promises.
export {
  AuthFailedError,
  CancelledError,
  CheckoutReleasedError,
  ClosedError,
  ERROR_CODES,
  type ErrorCode,
  FatalError,
  ForbiddenError,
  InsecureError,
  InterfaceMismatchError,
  InvalidOptionError,
  isTaskpoolError,
  JobFailedError,
  LeaseExpiredError,
  PrecedingCallFailedError,
  ProtocolError,
  QueueFullError,
  RemoteError,
  ServerBusyError,
  SetupError,
  StreamActiveError,
  StreamRequiredError,
  TaskpoolError,
  TimeoutError,
  UnknownMethodError,
  ValidationError,
  WorkerLostError,
  WorkerStartFailedError,
} from '@taskpool/protocol';
export { currentContext } from './call-context.js';
export { SERVER_CALL_TRACING, type ServerCallTraceContext } from './call-tracing.js';
export {
  CHANNELS,
  type ConnectionRefusedEvent,
  type ConnectionWaitingEvent,
  type RestartEvent,
  type WorkerEvent,
  type WorkerExitedEvent,
  type WorkerExitReason,
  type WorkerReadyEvent,
  type WorkerStartFailedEvent,
  type WorkerStartRecoveredEvent,
} from './diagnostics.js';
export {
  type ForkedServer,
  type ForkServerOptions,
  forkTaskServer,
} from './fork-task-server.js';
export { isWorker } from './ipc.js';
export type { ServerLogger } from './logger.js';
export type { ServerAuthOptions, ServerOptions, ServerTlsOptions } from './options.js';
export { createServer, type TaskServer } from './server.js';
export type { CloseOptions, ServerStats } from './supervisor.js';
export type { ServerMetrics } from './supervisor-metrics.js';
export {
  defineWorker,
  type HandlerRecord,
  type InterfaceFunction,
  type ServerInterface,
  type WorkerDefinition,
} from './worker-definition.js';
