/**
 * Error classes: one base, {@link TaskpoolError}, and one subclass per failure kind, each
 * with a stable `code` from {@link ERROR_CODES}. {@link toWire} and {@link fromWire} carry
 * any error across a connection keeping its name, message, stack, code and data.
 *
 * @module
 */
import { ERROR_CODES, type ErrorCode, isErrorCode } from './codes.js';

const BRAND = Symbol.for('taskpool.error');

/** Options every taskpool error takes. */
export interface TaskpoolErrorOptions {
  /** The error that caused this one. */
  cause?: unknown;
  /** Extra JSON data about the failure; it crosses the wire. */
  data?: unknown;
}

/** The base of every error taskpool raises. Match on `code`, not on the message. */
export class TaskpoolError extends Error {
  /** The stable code of this failure. */
  readonly code: ErrorCode;
  /** True when this failure poisons the checkout it happened on. */
  readonly fatal: boolean;
  /** Extra JSON data about the failure. */
  readonly data: unknown;

  constructor(code: ErrorCode, message: string, options: TaskpoolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TaskpoolError';
    this.code = code;
    this.fatal = ERROR_CODES[code].fatal;
    this.data = options.data;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for any taskpool error, even one made by another copy of this package. */
export function isTaskpoolError(value: unknown): value is TaskpoolError {
  return typeof value === 'object' && value !== null && BRAND in value;
}

/** What a remote handler threw, rebuilt on this side. */
export class RemoteError extends TaskpoolError {
  /** The `name` of the error the handler threw (`TypeError`, `SqliteError`, …). */
  readonly remoteName: string;
  /** The `code` property of the error the handler threw, if it had one. */
  readonly remoteCode: string | number | undefined;
  /** The stack of the error in the worker. */
  readonly remoteStack: string | undefined;

  constructor(
    message: string,
    remote: { name?: string; code?: string | number; stack?: string } = {},
    options?: TaskpoolErrorOptions,
  ) {
    super('REMOTE_ERROR', message, options);
    this.name = 'RemoteError';
    this.remoteName = remote.name ?? 'Error';
    this.remoteCode = remote.code;
    this.remoteStack = remote.stack;
  }
}

/** The worker's `setup` threw; the message starts with `setup exception: `. */
export class SetupError extends TaskpoolError {
  constructor(reason: string, options?: TaskpoolErrorOptions) {
    super('SETUP_FAILED', `setup exception: ${reason}`, options);
    this.name = 'SetupError';
  }
}

/** Arguments or a result did not match the interface, or cannot be carried by JSON. */
export class ValidationError extends TaskpoolError {
  constructor(
    code: 'INVALID_ARGS' | 'INVALID_RESULT',
    message: string,
    options?: TaskpoolErrorOptions,
  ) {
    super(code, message, options);
    this.name = 'ValidationError';
  }
}

/** The interface has no own method of that name. */
export class UnknownMethodError extends TaskpoolError {
  constructor(method: string | null, options?: TaskpoolErrorOptions) {
    super(
      'UNKNOWN_METHOD',
      method === null
        ? 'this interface has no default function: call a method by name'
        : `unknown method ${JSON.stringify(method)}`,
      options,
    );
    this.name = 'UnknownMethodError';
  }
}

/** A call pipelined behind a failed call on the same checkout: the worker did not run it. */
export class PrecedingCallFailedError extends TaskpoolError {
  constructor(options?: TaskpoolErrorOptions) {
    super(
      'PRECEDING_CALL_FAILED',
      'an earlier call on this checkout failed; this one did not run',
      options,
    );
    this.name = 'PrecedingCallFailedError';
  }
}

/** A call (or a second stream) was made while a stream on the same checkout is open. */
export class StreamActiveError extends TaskpoolError {
  constructor(method: string | null, stream: string | null, options?: TaskpoolErrorOptions) {
    super(
      'STREAM_ACTIVE',
      `cannot call ${method ?? '->()'} while the stream of ${stream ?? '->()'} is open on this checkout: read it to the end, break out of it or cancel it first`,
      options,
    );
    this.name = 'StreamActiveError';
  }
}

/** A streaming method was called as a plain call. */
export class StreamRequiredError extends TaskpoolError {
  constructor(method: string | null, options?: TaskpoolErrorOptions) {
    // A one-function server's calls have no method name: co.stream(null, args) reads them.
    const how =
      method === null
        ? 'co.stream(null, args) or client.stream(null, args)'
        : `co.${method}(...), co.stream(${JSON.stringify(method)}, args) or client.stream(${JSON.stringify(method)}, args)`;
    super(
      'STREAM_REQUIRED',
      `${method ?? '->()'} streams its results: read it as a stream (${how}), not with call()`,
      options,
    );
    this.name = 'StreamRequiredError';
  }
}

/** The call was cancelled before it finished. */
export class CancelledError extends TaskpoolError {
  constructor(message = 'the call was cancelled', options?: TaskpoolErrorOptions) {
    super('CANCELLED', message, options);
    this.name = 'CancelledError';
  }
}

/** A deadline passed. The message keeps the original's `timed out after N seconds`. */
export class TimeoutError extends TaskpoolError {
  /**
   * @param options.detail what was being waited for and what was seen, after the time:
   * `timed out after 30 seconds waiting for a worker: could not connect to …`
   */
  constructor(timeoutMs: number, options?: TaskpoolErrorOptions & { detail?: string }) {
    const detail = options?.detail ? ` ${options.detail}` : '';
    super('TIMEOUT', `timed out after ${timeoutMs / 1000} seconds${detail}`, options);
    this.name = 'TimeoutError';
  }
}

/** The worker died or its connection broke. */
export class WorkerLostError extends TaskpoolError {
  constructor(detail?: string, options?: TaskpoolErrorOptions) {
    super(
      'WORKER_LOST',
      detail ? `worker connection suddenly died: ${detail}` : 'worker connection suddenly died',
      options,
    );
    this.name = 'WorkerLostError';
  }
}

/** The checkout was poisoned on purpose with `throwFatalError()`. */
export class FatalError extends TaskpoolError {
  constructor(message: string, options?: TaskpoolErrorOptions) {
    super('FATAL_ERROR', message, options);
    this.name = 'FatalError';
  }
}

/** The peer broke the wire protocol, or speaks an incompatible version of it. */
export class ProtocolError extends TaskpoolError {
  constructor(
    message: string,
    options?: TaskpoolErrorOptions & { code?: 'PROTOCOL_ERROR' | 'INCOMPATIBLE_PROTOCOL' },
  ) {
    super(options?.code ?? 'PROTOCOL_ERROR', message, options);
    this.name = 'ProtocolError';
  }
}

/** A checkout was idle past its lease and was taken back. */
export class LeaseExpiredError extends TaskpoolError {
  constructor(leaseMs: number, options?: TaskpoolErrorOptions) {
    super('LEASE_EXPIRED', `checkout idle for more than ${leaseMs / 1000} seconds`, options);
    this.name = 'LeaseExpiredError';
  }
}

/** Too many checkouts are waiting. */
export class QueueFullError extends TaskpoolError {
  constructor(maxQueue: number, options?: TaskpoolErrorOptions) {
    super('QUEUE_FULL', `checkout queue is full (maxQueue ${maxQueue})`, options);
    this.name = 'QueueFullError';
  }
}

/** The server had no worker to spare. */
export class ServerBusyError extends TaskpoolError {
  constructor(message: string, options?: TaskpoolErrorOptions) {
    super('SERVER_BUSY', message, options);
    this.name = 'ServerBusyError';
  }
}

/** The server's workers cannot start: their code fails to load. */
export class WorkerStartFailedError extends TaskpoolError {
  constructor(message: string, options?: TaskpoolErrorOptions) {
    super('WORKER_START_FAILED', message, options);
    this.name = 'WorkerStartFailedError';
  }
}

/** Servers were discovered, but none serves this client's interface. */
export class InterfaceMismatchError extends TaskpoolError {
  constructor(message: string, options?: TaskpoolErrorOptions) {
    super('INTERFACE_MISMATCH', message, options);
    this.name = 'InterfaceMismatchError';
  }
}

/** A call on a checkout that was already released. */
export class CheckoutReleasedError extends TaskpoolError {
  constructor(options?: TaskpoolErrorOptions) {
    super('CHECKOUT_RELEASED', 'this checkout was already released', options);
    this.name = 'CheckoutReleasedError';
  }
}

/** The client, server or queue is closed. */
export class ClosedError extends TaskpoolError {
  constructor(what: string, options?: TaskpoolErrorOptions) {
    super('CLOSED', `${what} is closed`, options);
    this.name = 'ClosedError';
  }
}

/** An option had the wrong type or value. */
export class InvalidOptionError extends TaskpoolError {
  constructor(message: string, options?: TaskpoolErrorOptions) {
    super('INVALID_OPTION', message, options);
    this.name = 'InvalidOptionError';
  }
}

/** A queued job failed on its last attempt. */
export class JobFailedError extends TaskpoolError {
  constructor(message: string, options?: TaskpoolErrorOptions) {
    super('JOB_FAILED', message, options);
    this.name = 'JobFailedError';
  }
}

/**
 * Authentication failed: a wrong or missing key, a server that did not prove it holds the
 * key, or a failed TLS handshake.
 */
export class AuthFailedError extends TaskpoolError {
  constructor(message: string, options?: TaskpoolErrorOptions) {
    super('AUTH_FAILED', message, options);
    this.name = 'AuthFailedError';
  }
}

/** The server's `authorize` hook refused the call. */
export class ForbiddenError extends TaskpoolError {
  constructor(method: string | null, options?: TaskpoolErrorOptions) {
    super(
      'FORBIDDEN',
      `this peer may not call ${method === null ? 'the default function' : JSON.stringify(method)}`,
      options,
    );
    this.name = 'ForbiddenError';
  }
}

/**
 * An unprotected listener (`INSECURE_LISTEN`) or plaintext connection (`INSECURE_CONNECT`)
 * where others can reach it, refused before anything was opened or sent.
 */
export class InsecureError extends TaskpoolError {
  constructor(
    code: 'INSECURE_LISTEN' | 'INSECURE_CONNECT',
    message: string,
    options?: TaskpoolErrorOptions,
  ) {
    super(code, message, options);
    this.name = 'InsecureError';
  }
}

/** How an error crosses the wire. */
export interface WireError {
  code: string;
  name: string;
  message: string;
  stack?: string | undefined;
  data?: unknown;
  /** The `code` property of a non-taskpool error (`ENOENT`, `SQLITE_CONSTRAINT`, …). */
  remoteCode?: string | number | undefined;
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined was thrown';
  if (value === null) return 'null was thrown';
  try {
    return `non-error thrown: ${JSON.stringify(value) ?? String(value)}`;
  } catch {
    return `non-error thrown: ${Object.prototype.toString.call(value)}`;
  }
}

/** Turns anything that was thrown into its wire form. Never throws. */
export function toWire(thrown: unknown): WireError {
  if (isTaskpoolError(thrown)) {
    const wire: WireError = {
      code: thrown.code,
      name: thrown.name,
      message: thrown.message,
      stack: thrown.stack,
    };
    if (thrown.data !== undefined) wire.data = thrown.data;
    if (thrown instanceof RemoteError) {
      wire.name = thrown.remoteName;
      wire.stack = thrown.remoteStack;
      if (thrown.remoteCode !== undefined) wire.remoteCode = thrown.remoteCode;
    }
    return wire;
  }
  if (thrown instanceof Error) {
    const wire: WireError = {
      code: 'REMOTE_ERROR',
      name: thrown.name,
      message: thrown.message,
      stack: thrown.stack,
    };
    const own = (thrown as { code?: unknown }).code;
    if (typeof own === 'string' || typeof own === 'number') wire.remoteCode = own;
    return wire;
  }
  return { code: 'REMOTE_ERROR', name: 'NonError', message: describeThrown(thrown) };
}

/** How {@link fromWire} rebuilds an error. */
export interface FromWireOptions {
  /** The rebuilt error's `cause`: the wire form carries none. */
  cause?: unknown;
  /**
   * What an error that is not a taskpool error (code `REMOTE_ERROR`, or a code this version
   * does not know) becomes. `'remote'`: a RemoteError, for what a handler threw on the other
   * side. `'plain'`: an `Error` with the original name, message, stack and `code`
   * (`ERR_MODULE_NOT_FOUND`, …), for an error that was not a handler's, such as what loading
   * a worker's code threw.
   */
  foreign?: 'remote' | 'plain';
}

/**
 * Rebuilds an error from its wire form: the subclass of its code for a taskpool error;
 * otherwise a RemoteError, or with `foreign: 'plain'` an `Error` as it was thrown.
 */
export function fromWire(
  wire: WireError,
  options?: FromWireOptions & { foreign?: 'remote' },
): TaskpoolError;
export function fromWire(wire: WireError, options: FromWireOptions): Error;
export function fromWire(
  wire: WireError,
  { cause, foreign = 'remote' }: FromWireOptions = {},
): Error {
  const options: TaskpoolErrorOptions =
    cause === undefined ? { data: wire.data } : { data: wire.data, cause };
  const code = isErrorCode(wire.code) ? wire.code : 'REMOTE_ERROR';
  if (code === 'REMOTE_ERROR') {
    if (foreign === 'plain') {
      const error = new Error(wire.message, cause === undefined ? undefined : { cause });
      error.name = wire.name;
      error.stack = wire.stack ?? `${wire.name}: ${wire.message}`;
      if (wire.remoteCode !== undefined) {
        (error as Error & { code?: string | number }).code = wire.remoteCode;
      }
      return error;
    }
    return new RemoteError(
      wire.message,
      { name: wire.name, code: wire.remoteCode, stack: wire.stack },
      options,
    );
  }
  // Rebuilt without running the subclass constructor, whose message format would be
  // applied a second time; the prototype makes `instanceof` work all the same.
  const error = new TaskpoolError(code, wire.message, options);
  Object.setPrototypeOf(error, (WIRE_CLASSES[code] ?? TaskpoolError).prototype);
  error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}

const WIRE_CLASSES: Partial<Record<ErrorCode, { prototype: TaskpoolError }>> = {
  SETUP_FAILED: SetupError,
  INVALID_ARGS: ValidationError,
  INVALID_RESULT: ValidationError,
  UNKNOWN_METHOD: UnknownMethodError,
  PRECEDING_CALL_FAILED: PrecedingCallFailedError,
  STREAM_ACTIVE: StreamActiveError,
  STREAM_REQUIRED: StreamRequiredError,
  CANCELLED: CancelledError,
  TIMEOUT: TimeoutError,
  WORKER_LOST: WorkerLostError,
  FATAL_ERROR: FatalError,
  PROTOCOL_ERROR: ProtocolError,
  INCOMPATIBLE_PROTOCOL: ProtocolError,
  LEASE_EXPIRED: LeaseExpiredError,
  QUEUE_FULL: QueueFullError,
  SERVER_BUSY: ServerBusyError,
  WORKER_START_FAILED: WorkerStartFailedError,
  INTERFACE_MISMATCH: InterfaceMismatchError,
  CHECKOUT_RELEASED: CheckoutReleasedError,
  CLOSED: ClosedError,
  INVALID_OPTION: InvalidOptionError,
  JOB_FAILED: JobFailedError,
  AUTH_FAILED: AuthFailedError,
  FORBIDDEN: ForbiddenError,
  INSECURE_LISTEN: InsecureError,
  INSECURE_CONNECT: InsecureError,
};
