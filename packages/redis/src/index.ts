/**
 * `@taskpool/redis`: a Redis job queue in three modes (simple, recoverable, reliable) and
 * `serveQueue()`, its bridge onto a taskpool server's worker processes.
 *
 * @module
 */
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
export { type CallJob, type CallTarget, type ServeOptions, serveQueue } from './bridge.js';
export type { JobStream, QueueConsumer, StopOptions, WorkOptions } from './consumer.js';
export { CHANNELS as QUEUE_CHANNELS, type JobEndedMessage } from './diagnostics.js';
export type { JobHandler } from './handler-runner.js';
export type { FailOptions, Job } from './job.js';
export type { JobRecord, JobState } from './job-record.js';
export { type QueueKeys, queueKeys } from './keys.js';
export {
  type BackoffOptions,
  QUEUE_MODES,
  type QueueMode,
  type QueueOptions,
  type RedisInput,
} from './options.js';
export { PROGRESS_BUFFER } from './progress.js';
export { createQueue, type Queue } from './queue.js';
export type { QueueMetricsSnapshot } from './queue-metrics.js';
export { type RedisRegistryOptions, redisRegistry } from './registry.js';
export type { QueueStats } from './stats.js';
export type { CollectOptions, JobHandle, SubmitOptions } from './submitter.js';
