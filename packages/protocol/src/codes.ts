/**
 * The one table of stable error codes. A code statically and permanently identifies a
 * failure: messages may change between versions, codes never do. Match on `err.code`.
 *
 * `fatal` says whether the failure poisons the checkout it happened on (the worker is
 * killed and every later call on that checkout rejects with the stored error).
 *
 * @module
 */

/** Every code, with whether it is fatal to a checkout and what it means. */
export const ERROR_CODES = {
  /** The handler in the worker threw (or rejected). The checkout stays usable. */
  REMOTE_ERROR: { fatal: false, summary: 'the handler in the worker threw' },
  /** `setup` threw in the worker; it is retried on the next call. */
  SETUP_FAILED: { fatal: false, summary: 'the worker setup function threw' },
  /** Arguments did not match the method's schema (checked on both ends). */
  INVALID_ARGS: { fatal: false, summary: 'arguments did not match the interface schema' },
  /** A result did not match the method's schema or cannot be carried by JSON. */
  INVALID_RESULT: { fatal: false, summary: 'a result did not match its schema or is not JSON' },
  /** The method is not an own property of the interface (unknown, or a prototype name). */
  UNKNOWN_METHOD: { fatal: false, summary: 'the interface has no such method' },
  /** A call pipelined behind a failed call on the same checkout; it never ran. */
  PRECEDING_CALL_FAILED: {
    fatal: false,
    summary: 'an earlier call on the same checkout failed, so this one never ran',
  },
  /**
   * A call (or a second stream) was made on a checkout while one of its streams is still
   * being read. The call was not sent; the checkout stays usable. Finish, `break` out of or
   * cancel the stream first.
   */
  STREAM_ACTIVE: {
    fatal: false,
    summary: 'a stream is open on this checkout; finish or cancel it before calling again',
  },
  /**
   * A method that streams (its handler returned an async iterable) was called as a plain
   * call. Read it as a stream: `co.method(...)`, `co.stream()` or `client.stream()`.
   */
  STREAM_REQUIRED: {
    fatal: false,
    summary: 'the method streams its results; read it as a stream, not with call()',
  },
  /** The call was cancelled (its signal aborted) before it finished. */
  CANCELLED: { fatal: false, summary: 'the call was cancelled before it finished' },
  /** A call's deadline passed (waiting for a worker, connecting or executing). */
  TIMEOUT: { fatal: true, summary: 'the call did not finish before its deadline' },
  /** The worker process died or its connection broke while the checkout held it. */
  WORKER_LOST: { fatal: true, summary: 'the worker connection suddenly died' },
  /** The checkout was poisoned on purpose with `throwFatalError()`. */
  FATAL_ERROR: { fatal: true, summary: 'the checkout was poisoned with throwFatalError()' },
  /** The peer sent bytes that are not a valid frame or message; the connection is closed. */
  PROTOCOL_ERROR: { fatal: true, summary: 'the peer broke the wire protocol' },
  /** The peer speaks a protocol version this side cannot talk to. */
  INCOMPATIBLE_PROTOCOL: { fatal: true, summary: 'the peer speaks an incompatible protocol' },
  /** A checkout sat unused longer than its `leaseTimeout` and was taken back. */
  LEASE_EXPIRED: { fatal: true, summary: 'the checkout was idle past its lease and taken back' },
  /** Too many checkouts are already waiting (`maxQueue`). */
  QUEUE_FULL: { fatal: false, summary: 'too many checkouts are waiting' },
  /** The server refused the connection because `maxWorkers` workers are busy. */
  SERVER_BUSY: { fatal: true, summary: 'the server has no worker to spare' },
  /**
   * The server cannot start workers: their code fails to load (a missing module, an error
   * at import, no default export). The message and `cause` carry the load error.
   */
  WORKER_START_FAILED: {
    fatal: true,
    summary: 'the server cannot start a worker because its code fails to load',
  },
  /**
   * Servers of the client's service were found, but none serves the client's interface
   * (their interface hash differs): an old client against new servers, or the reverse.
   */
  INTERFACE_MISMATCH: {
    fatal: true,
    summary: 'no server found serves the interface this client was built for',
  },
  /** A call was made on a checkout after it was released. */
  CHECKOUT_RELEASED: { fatal: false, summary: 'the checkout was already released' },
  /** The client, server or queue was closed or destroyed. */
  CLOSED: { fatal: true, summary: 'the client, server or queue is closed' },
  /** An option had the wrong type or value; nothing was started. */
  INVALID_OPTION: { fatal: false, summary: 'an option had the wrong type or value' },
  /**
   * The opening exchange failed: the client's key is missing or wrong, the server could
   * not prove that it holds the key, or the TLS handshake failed (a certificate that does
   * not verify). The connection is closed; waiting would not help.
   */
  AUTH_FAILED: {
    fatal: true,
    summary: 'authentication failed: a wrong or missing key or certificate',
  },
  /** The server's `authorize` hook refused this call to this peer. The checkout stays usable. */
  FORBIDDEN: { fatal: false, summary: 'the server refused this call to this peer (authorize)' },
  /**
   * A server would listen beyond loopback without TLS or authentication, or put its socket
   * in a directory other users can write to. Nothing was started; the message says how to
   * fix it (`tls`, `auth`, a private directory, or `insecure: true`).
   */
  INSECURE_LISTEN: {
    fatal: false,
    summary: 'the server refused to listen unprotected where others can reach it',
  },
  /**
   * A client would send in plaintext to an address beyond loopback, with neither TLS nor
   * authentication. Nothing was sent; set `tls`, `auth`, or `insecure: true`.
   */
  INSECURE_CONNECT: {
    fatal: true,
    summary: 'the client refused to talk in plaintext to an address beyond loopback',
  },
  /** A queued job failed on its last attempt. */
  JOB_FAILED: { fatal: false, summary: 'the job failed on its last attempt' },
} as const satisfies Record<string, { fatal: boolean; summary: string }>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** True when `value` is one of the codes in {@link ERROR_CODES}. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}
