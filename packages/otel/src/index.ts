/**
 * OpenTelemetry for taskpool: a CLIENT span per call and a SERVER span per handler in one
 * trace, RPC duration metrics, and the pool as database connection pool metrics. Depends on
 * `@opentelemetry/api` (a peer) and `@taskpool/protocol`: bring your SDK.
 *
 * @example
 * import { instrumentTaskpool } from '@taskpool/otel';
 * instrumentTaskpool(); // after the SDK is set up, in the client's and the worker's process
 *
 * @module
 */
export {
  instrumentTaskpool,
  type TaskpoolInstrumentation,
  type TaskpoolInstrumentationOptions,
} from './instrument.js';
export {
  type ClientInstrumentationOptions,
  instrumentClient,
  type ObservedClient,
} from './pool-metrics.js';
export {
  instrumentQueue,
  type ObservedQueue,
  type QueueInstrumentationOptions,
} from './queue-metrics.js';
export { INSTRUMENTATION_SCOPE } from './scope.js';
export { formatTraceparent, parseTraceparent } from './trace-context.js';
