/**
 * `@taskpool/protocol/runtime`: everything the server and client run, without zod:
 * framing, the parse gate, error codes and classes, `defineInterface`, the deferred log,
 * endpoints and option checks, and the message types. A worker that serves a plain record
 * of handlers never loads zod (about 55 ms and 14 MB per process). The zod schemas of the
 * messages, the documented contract, are exported by `@taskpool/protocol` itself.
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
export {
  type Endpoint,
  type EndpointInput,
  formatEndpoint,
  parseEndpoint,
  type TcpEndpoint,
  type UnixEndpoint,
} from './endpoint.js';
export {
  CancelledError,
  CheckoutReleasedError,
  ClosedError,
  FatalError,
  fromWire,
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
  TaskpoolError,
  type TaskpoolErrorOptions,
  TimeoutError,
  toWire,
  UnknownMethodError,
  ValidationError,
  type WireError,
  WorkerLostError,
} from './errors.js';
export { FrameDecoder, type FrameDecoderOptions } from './frame-decoder.js';
export { encodeFrame, encodeFrames, FrameBatch } from './frame-encoder.js';
export { type FrameSink, FrameWriter } from './frame-writer.js';
export type { HandlerContext } from './handler-context.js';
export {
  type AnyImplementation,
  type CascadeCall,
  type ClientMethods,
  defineInterface,
  type Handler,
  type Handlers,
  type Implementation,
  type Interface,
  type InterfaceDescription,
  type InterfaceSchema,
  isImplementation,
  isInterface,
  type MethodArgs,
  type MethodResult,
  type MethodSchema,
} from './interface.js';
export { findNonJson, isJsonValue, MAX_JSON_DEPTH } from './json-value.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  MAX_TIMER_MS,
  PROTOCOL_VERSION,
} from './limits.js';
export type {
  CallMessage,
  CancelMessage,
  DoneMessage,
  ErrorMessage,
  HelloMessage,
  Message,
  MessageType,
  ResultMessage,
  RetireMessage,
} from './messages.js';
export { invalidOption, parseOptions } from './options.js';
export { parseMessage } from './parse-message.js';
