/**
 * Every message of the wire protocol, as zod schemas with their inferred types. Every
 * message is a JSON object with a `type`; the union is discriminated on it.
 *
 * Client → worker: `open`, `auth`, `call`, `credit`, `cancel`, `done`, `stats` (a request).
 * Worker → client: `challenge`, `hello`, `item`, `result`, `error`, `retire`, `stats` (the
 * reply, carrying `stats`).
 *
 * The opening exchange: the client sends `open` as soon as it connects. A server without
 * `auth` answers `hello` at once. A server with `auth` sends `challenge` (its nonce); the
 * client answers `auth` (its key id, its nonce and an HMAC over both); the server checks it
 * and sends `hello` carrying its own HMAC, which the client checks in turn. Nothing else
 * may come before `hello`.
 *
 * A stream is a `call` that carries `credit`: the worker sends up to that many `item`s, and
 * one more for each one the client grants with a `credit` message, then ends the stream with
 * `result` (the handler's return value) or `error`.
 *
 * @module
 */
import { z } from 'zod';
import { logRecordSchema } from './deferred-log-record.js';
import type { ServerStatsSnapshot } from './server-stats.js';

const callId = z.number().int().nonnegative();

export const wireErrorSchema = z.object({
  code: z.string(),
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  data: z.unknown().optional(),
  remoteCode: z.union([z.string(), z.number()]).optional(),
});

/** The client's first message, sent as soon as it connects. */
export const openSchema = z.object({
  type: z.literal('open'),
  /** The newest protocol version the client speaks. */
  protocol: z.number().int().positive(),
});

/** A server with `auth` asks the client to prove it holds a key. */
export const challengeSchema = z.object({
  type: z.literal('challenge'),
  /** The protocol version the worker speaks. */
  protocol: z.number().int().positive(),
  /** The authentication methods the server accepts: `hmac-sha256`. */
  methods: z.array(z.string()),
  /** 32 random bytes, base64: new for every connection, so an answer cannot be replayed. */
  nonce: z.string(),
});

/** The client's answer to `challenge`. */
export const authSchema = z.object({
  type: z.literal('auth'),
  /** The method chosen from the challenge's `methods`. */
  method: z.string(),
  /** Which of the server's keys the client holds. */
  keyId: z.string(),
  /** The client's own 32 random bytes, base64. */
  nonce: z.string(),
  /** HMAC-SHA256 (base64) over both nonces and, under TLS, the session's exporter value. */
  mac: z.string(),
});

/**
 * The last message of the opening exchange, sent by the worker once the client may call:
 * it names the worker and describes the interface.
 */
export const helloSchema = z.object({
  type: z.literal('hello'),
  /** The protocol version the worker speaks. */
  protocol: z.number().int().positive(),
  pid: z.number().int(),
  /** The server's `name`, or null. */
  server: z.string().nullable(),
  /** The worker's number within its server, from 1. */
  worker: z.number().int().nonnegative(),
  /** The JSON description of the interface, or null for a one-function interface. */
  interface: z.record(z.string(), z.unknown()).nullable(),
  /**
   * The methods known to stream (declared with `yields`, or whose handler is an async
   * generator function), so that a client without the interface reads them as streams.
   */
  streams: z.array(z.string()).optional(),
  /**
   * After `auth`: the server's proof that it holds the key too, an HMAC-SHA256 (base64)
   * over the same values with the server's label.
   */
  auth: z.object({ mac: z.string() }).optional(),
  /**
   * True when the server keeps its interface description (`interface`, sent as null) from
   * this peer: it is not authenticated and did not come over a Unix socket.
   */
  interfaceWithheld: z.boolean().optional(),
});

/** Runs one method (or, with `method: null`, the one-function interface). */
export const callSchema = z.object({
  type: z.literal('call'),
  id: callId,
  method: z.string().nullable(),
  args: z.array(z.unknown()),
  /** Absolute deadline in epoch milliseconds; the handler's signal aborts when it passes. */
  deadline: z.number().optional(),
  /** Values of the caller's error scope (request id, trace context, …). */
  scope: z.record(z.string(), z.unknown()).optional(),
  /**
   * How many failed calls the client had seen on this connection when it made this call.
   * A worker that has failed more calls than that answers `PRECEDING_CALL_FAILED` without
   * running it: a call pipelined behind a failure never runs.
   */
  failures: z.number().int().nonnegative().optional(),
  /**
   * Present on a stream: how many items the worker may send before the client grants
   * more. A call without it must not stream (`STREAM_REQUIRED`).
   */
  credit: z.number().int().positive().optional(),
});

/** One item of stream `id`. */
export const itemSchema = z.object({
  type: z.literal('item'),
  id: callId,
  value: z.unknown(),
});

/** The client grants stream `id` `n` more items. */
export const creditSchema = z.object({
  type: z.literal('credit'),
  id: callId,
  n: z.number().int().positive(),
});

export const resultSchema = z.object({
  type: z.literal('result'),
  id: callId,
  value: z.unknown(),
  log: logRecordSchema.optional(),
});

export const errorSchema = z.object({
  type: z.literal('error'),
  id: callId,
  error: wireErrorSchema,
  log: logRecordSchema.optional(),
  /** The worker's count of failed calls after this one (see `call.failures`). */
  failures: z.number().int().nonnegative().optional(),
});

/** Asks the worker to abort call `id`: its handler's `ctx.signal` fires. */
export const cancelSchema = z.object({ type: z.literal('cancel'), id: callId });

/** The checkout is released and the worker goes back to the pool: run `checkoutDone`. */
export const doneSchema = z.object({ type: z.literal('done') });

/** The worker will serve no further checkout; the client replaces it without an error. */
export const retireSchema = z.object({
  type: z.literal('retire'),
  reason: z.string().optional(),
});

const count = z.number().int().nonnegative();

/** A `DurationSummary`: milliseconds, and a count. */
const durationSummarySchema = z.object({
  count,
  min: z.number().nonnegative(),
  mean: z.number().nonnegative(),
  p50: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  max: z.number().nonnegative(),
});

const serverMetricsSchema = z.object({
  calls: z.record(z.string(), count),
  callDuration: durationSummarySchema,
  connectionWait: durationSummarySchema,
  connectionServe: durationSummarySchema,
  workersExited: z.record(z.string(), count),
});

/**
 * The supervisor's stats (`server.stats()`). A field added later must be optional, so that
 * a client that knows it still reads a server that does not send it.
 */
export const serverStatsSchema = z.object({
  starting: count,
  spares: count,
  serving: count,
  waitingConnections: count,
  spawned: count,
  killedHung: count,
  startFailures: count,
  consecutiveStartFailures: count,
  lastStartError: z.string().nullable(),
  startedAt: z.number().nullable(),
  uptime: count.nullable(),
  version: z.string().nullable(),
  /**
   * Connections refused or dropped before they were served, by reason (`waiting-full`,
   * `peer-limit`, `busy`, `silent`, `start-failed`, `handshake-timeout`, `tls-failed`,
   * `auth-failed`, `protocol-error`).
   */
  rejected: z.record(z.string(), count).optional(),
  /** What the server measured (absent with `metrics: false`, and from older servers). */
  metrics: serverMetricsSchema.optional(),
}) satisfies z.ZodType<ServerStatsSnapshot>;

/**
 * The server's stats. From the client, without `stats`, it asks for them; the worker
 * answers with the same `id` and `stats`, or with an `error` of that `id` when the
 * supervisor cannot say. A control message: the worker answers it on receipt, whatever
 * call runs. Its `id` is taken from the same sequence as the calls' on that connection.
 * (One message type for both directions: a discriminated union takes each type once.)
 */
export const statsSchema = z.object({
  type: z.literal('stats'),
  id: callId,
  stats: serverStatsSchema.optional(),
});

export const messageSchema = z.discriminatedUnion('type', [
  openSchema,
  challengeSchema,
  authSchema,
  helloSchema,
  callSchema,
  itemSchema,
  creditSchema,
  resultSchema,
  errorSchema,
  cancelSchema,
  doneSchema,
  retireSchema,
  statsSchema,
]);

export type OpenMessage = z.infer<typeof openSchema>;
export type ChallengeMessage = z.infer<typeof challengeSchema>;
export type AuthMessage = z.infer<typeof authSchema>;
export type HelloMessage = z.infer<typeof helloSchema>;
export type CallMessage = z.infer<typeof callSchema>;
export type ItemMessage = z.infer<typeof itemSchema>;
export type CreditMessage = z.infer<typeof creditSchema>;
export type ResultMessage = z.infer<typeof resultSchema>;
export type ErrorMessage = z.infer<typeof errorSchema>;
export type CancelMessage = z.infer<typeof cancelSchema>;
export type DoneMessage = z.infer<typeof doneSchema>;
export type RetireMessage = z.infer<typeof retireSchema>;
export type StatsMessage = z.infer<typeof statsSchema>;
/** Any protocol message. */
export type Message = z.infer<typeof messageSchema>;
/** The `type` of a message. */
export type MessageType = Message['type'];
