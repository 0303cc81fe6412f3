/**
 * `@taskpool/client`: a pool of worker connections giving out typed, disposable
 * checkouts, with deadlines, aborts, scoped error handling and log merging.
 *
 * @module
 */

// Every error class, the guard and the code table, as docs/errors.md promises, beside
// defineInterface and DeferredLog.
export {
  AuthFailedError,
  CancelledError,
  CheckoutReleasedError,
  ClosedError,
  DeferredLog,
  defineInterface,
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
  type ServerStatsSnapshot,
  SetupError,
  StreamActiveError,
  type StreamOptions,
  StreamRequiredError,
  TaskpoolError,
  type TaskStream,
  TimeoutError,
  UnknownMethodError,
  ValidationError,
  WorkerLostError,
  WorkerStartFailedError,
} from '@taskpool/protocol';
export type { Checkout, CheckoutBase, ServerStatsOptions } from './checkout-proxy.js';
export {
  type Client,
  createClient,
  type OneShotOptions,
  type OneShotStreamOptions,
} from './client.js';
export type { ClientMetricsSnapshot } from './client-metrics.js';
export {
  type CallTraceContext,
  CHANNELS,
  type CheckoutTraceContext,
  TRACING_CHANNELS,
} from './diagnostics.js';
export { type ErrorScopeOptions, errorScope } from './error-scope.js';
export type { MethodsOf, RemoteMethods, UntypedMethods } from './method-types.js';
export type {
  CallOptions,
  CheckoutOptions,
  ClientAuthOptions,
  ClientOptions,
  ClientTlsOptions,
  MapOptions,
} from './options.js';
export type { EndpointReport, PoolStats } from './pool.js';
