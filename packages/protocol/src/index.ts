/**
 * `@taskpool/protocol`: what a user of taskpool imports: error codes and classes,
 * `defineInterface`, the deferred log, endpoints and the limits options refer to. It does not
 * load zod (a worker that serves a plain record of handlers never does: about 55 ms and
 * 14 MB per process); schemas given to `defineInterface` are the user's own.
 *
 * Two more entry points, by audience:
 * - `@taskpool/protocol/schemas`: the zod schemas of the wire messages and of the deferred
 *   log record, the documented contract, for tools that speak the protocol themselves.
 * - `@taskpool/protocol/internal`: the plumbing the taskpool packages share (framing, the
 *   parse gate, option checks). It follows the packages' versions, not semver of its own.
 *
 * @module
 */
export { ERROR_CODES, type ErrorCode, isErrorCode } from './codes.js';
export {
  DeferredLog,
  type DeferredLogOptions,
  epochSeconds,
  LOG_LEVELS,
  type LogTimer,
} from './deferred-log.js';
export type { LogEntry, LogRecord, TimerEntry } from './deferred-log-record.js';
export type { DurationSummary } from './duration-summary.js';
export {
  type Endpoint,
  type EndpointInput,
  formatEndpoint,
  isLoopback,
  parseEndpoint,
  type TcpEndpoint,
  type UnixEndpoint,
} from './endpoint.js';
export {
  AuthFailedError,
  CancelledError,
  CheckoutReleasedError,
  ClosedError,
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
  type TaskpoolErrorOptions,
  TimeoutError,
  UnknownMethodError,
  ValidationError,
  WorkerLostError,
  WorkerStartFailedError,
} from './errors.js';
export type { HandlerContext, Peer } from './handler-context.js';
export {
  type AnyImplementation,
  type CascadeCall,
  type ClientMethods,
  type DefineInterfaceOptions,
  defineInterface,
  type Handler,
  type Handlers,
  type Implementation,
  type Interface,
  type InterfaceDescription,
  type InterfaceSchema,
  type ItemProducer,
  isImplementation,
  isInterface,
  type JsonSchema,
  type MethodArgs,
  type MethodDescription,
  type MethodItem,
  type MethodResult,
  type MethodSchema,
  type StreamMethodNames,
  type StreamMethodSchema,
  type UnaryMethodNames,
  type UnaryMethodSchema,
} from './interface.js';
export { type InterfaceHash, interfaceHash } from './interface-hash.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  MAX_STREAM_CREDIT,
  MAX_TIMER_MS,
  PROTOCOL_VERSION,
} from './limits.js';
export type { SecretSource } from './secret-source.js';
export type { ServerMetricsSnapshot, ServerStatsSnapshot } from './server-stats.js';
export type {
  RegistryHandle,
  ServerAnnouncement,
  ServerDiscovery,
  ServiceRegistry,
} from './service-registry.js';
export { defaultSocketDirectory, defaultSocketPath } from './socket-path.js';
export type {
  StreamArgsOf,
  StreamMethod,
  StreamOptions,
  TaskStream,
  WithStreamOptions,
} from './task-stream.js';
