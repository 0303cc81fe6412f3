/**
 * The one gate from untrusted input to a typed {@link Message}.
 *
 * It is written by hand rather than run through `messageSchema` (messages.ts), for two
 * reasons: every frame on every connection passes through it, and a worker that serves a
 * plain record of handlers should not have to load zod at all. The zod schemas stay the
 * contract: for every value `JSON.parse` can return, this gate accepts exactly what
 * `messageSchema` accepts, returns what it returns (a new object holding only the known
 * keys; records without a `__proto__` key), and reports the first problem at the same
 * path. A differential property test holds the two to that.
 *
 * @module
 */

import type { DurationSummary } from './duration-summary.js';
import { ProtocolError } from './errors.js';
import type {
  AuthMessage,
  CallMessage,
  CancelMessage,
  ChallengeMessage,
  CreditMessage,
  ErrorMessage,
  HelloMessage,
  ItemMessage,
  Message,
  OpenMessage,
  ResultMessage,
  RetireMessage,
  StatsMessage,
} from './messages.js';
import type { ServerStatsSnapshot } from './server-stats.js';

type Path = PropertyKey[];

/** The first problem found; thrown inside this module only, and only on failure. */
class Invalid {
  constructor(
    readonly path: Path,
    readonly message: string,
  ) {}
}

const TYPES =
  "'open' | 'challenge' | 'auth' | 'hello' | 'call' | 'item' | 'credit' | 'result' | 'error' | 'cancel' | 'done' | 'retire' | 'stats'";

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return 'number';
  }
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : 'object';
}

function expected(what: string, value: unknown, path: Path): Invalid {
  return new Invalid(path, `expected ${what}, received ${kind(value)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** zod's notion of a plain object (what `z.record` accepts). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!isObject(value)) return false;
  const ctor = (value as { constructor?: unknown }).constructor;
  if (ctor === undefined || typeof ctor !== 'function') return true;
  const prototype = (ctor as { prototype?: unknown }).prototype;
  return isObject(prototype) && Object.hasOwn(prototype, 'isPrototypeOf');
}

const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

function number(value: unknown, path: Path): number {
  if (isNumber(value)) return value;
  throw expected('number', value, path);
}

/** `z.number().int()`, and `.nonnegative()` (min 0) or `.positive()` (min 1). */
function int(value: unknown, path: Path, min?: 0 | 1): number {
  if (!isNumber(value)) throw expected('number', value, path);
  if (!Number.isInteger(value)) throw expected('int', value, path);
  if (value > Number.MAX_SAFE_INTEGER) {
    throw new Invalid(path, `too big: expected int to be <=${Number.MAX_SAFE_INTEGER}`);
  }
  if (value < Number.MIN_SAFE_INTEGER) {
    throw new Invalid(path, `too small: expected int to be >=${Number.MIN_SAFE_INTEGER}`);
  }
  if (min === 0 && value < 0) throw new Invalid(path, 'too small: expected number to be >=0');
  if (min === 1 && value <= 0) throw new Invalid(path, 'too small: expected number to be >0');
  return value;
}

function string(value: unknown, path: Path): string {
  if (typeof value === 'string') return value;
  throw expected('string', value, path);
}

/** `z.record(z.string(), z.unknown())`: a plain object; an own `__proto__` key is dropped. */
function record(value: unknown, path: Path): Record<string, unknown> {
  if (!isPlainObject(value)) throw expected('record', value, path);
  if (
    Object.getPrototypeOf(value) === Object.prototype &&
    !Object.hasOwn(value, '__proto__') &&
    Object.getOwnPropertySymbols(value).length === 0
  ) {
    return value;
  }
  const copy: Record<string, unknown> = {};
  for (const key of Reflect.ownKeys(value)) {
    if (key === '__proto__' || !Object.prototype.propertyIsEnumerable.call(value, key)) continue;
    if (typeof key !== 'string') throw new Invalid([...path, key], 'invalid key');
    copy[key] = value[key];
  }
  return copy;
}

function array(value: unknown, path: Path): unknown[] {
  if (Array.isArray(value)) return value;
  throw expected('array', value, path);
}

const at = (path: Path, key: PropertyKey): Path => [...path, key];

const ROOT: Path = [];
const ID: Path = ['id'];

/** `z.number().int().nonnegative()`, the id of a call. */
function callId(value: unknown): number {
  // The common case first: a small non-negative integer.
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  return int(value, ID, 0);
}

/** The wire form of an error (`wireErrorSchema`). */
function wireError(value: unknown, path: Path): ErrorMessage['error'] {
  if (!isObject(value)) throw expected('object', value, path);
  const out: ErrorMessage['error'] = {
    code: string(value.code, at(path, 'code')),
    name: string(value.name, at(path, 'name')),
    message: string(value.message, at(path, 'message')),
  };
  const stack = value.stack;
  if (stack !== undefined) out.stack = string(stack, at(path, 'stack'));
  else if ('stack' in value) out.stack = undefined;
  if ('data' in value) out.data = value.data;
  const remoteCode = value.remoteCode;
  if (remoteCode !== undefined) {
    if (typeof remoteCode !== 'string' && !isNumber(remoteCode)) {
      throw new Invalid(at(path, 'remoteCode'), 'invalid input');
    }
    out.remoteCode = remoteCode;
  } else if ('remoteCode' in value) {
    out.remoteCode = undefined;
  }
  return out;
}

/** One log line: `[number, number, ...unknown]`. */
function logEntry(value: unknown, path: Path): unknown[] {
  if (!Array.isArray(value)) throw expected('tuple', value, path);
  number(value[0], at(path, 0));
  number(value[1], at(path, 1));
  return value;
}

/** One timer: `[string, number, number]` or `[string, number]`. */
function timerEntry(value: unknown, path: Path): unknown[] {
  const ok =
    Array.isArray(value) &&
    (value.length === 2 || value.length === 3) &&
    typeof value[0] === 'string' &&
    isNumber(value[1]) &&
    (value.length === 2 || isNumber(value[2]));
  if (!ok) throw new Invalid(path, 'invalid input');
  return value;
}

/** A deferred log record (`logRecordSchema`). */
function logRecord(value: unknown, path: Path): NonNullable<ResultMessage['log']> {
  if (!isObject(value)) throw expected('object', value, path);
  const out: NonNullable<ResultMessage['log']> = { start: number(value.start, at(path, 'start')) };
  const end = value.end;
  if (end !== undefined) out.end = number(end, at(path, 'end'));
  else if ('end' in value) out.end = undefined;
  const logs = value.logs;
  if (logs !== undefined) {
    const where = at(path, 'logs');
    const list = array(logs, where);
    for (let i = 0; i < list.length; i++) logEntry(list[i], at(where, i));
    out.logs = list as NonNullable<typeof out.logs>;
  } else if ('logs' in value) {
    out.logs = undefined;
  }
  const timers = value.timers;
  if (timers !== undefined) {
    const where = at(path, 'timers');
    const list = array(timers, where);
    for (let i = 0; i < list.length; i++) timerEntry(list[i], at(where, i));
    out.timers = list as NonNullable<typeof out.timers>;
  } else if ('timers' in value) {
    out.timers = undefined;
  }
  const data = value.data;
  if (data !== undefined) out.data = record(data, at(path, 'data'));
  else if ('data' in value) out.data = undefined;
  return out;
}

/** An optional non-negative integer field (`failures`). */
function failuresOf(input: Record<string, unknown>, out: { failures?: number | undefined }): void {
  const failures = input.failures;
  if (failures !== undefined) out.failures = int(failures, ['failures'], 0);
  else if ('failures' in input) out.failures = undefined;
}

function call(input: Record<string, unknown>): CallMessage {
  const id = callId(input.id);
  const method = input.method;
  if (method !== null && typeof method !== 'string') {
    throw expected('string', method, ['method']);
  }
  const out: CallMessage = { type: 'call', id, method, args: array(input.args, ['args']) };
  const deadline = input.deadline;
  if (deadline !== undefined) out.deadline = number(deadline, ['deadline']);
  else if ('deadline' in input) out.deadline = undefined;
  const scope = input.scope;
  if (scope !== undefined) out.scope = record(scope, ['scope']);
  else if ('scope' in input) out.scope = undefined;
  failuresOf(input, out);
  const credit = input.credit;
  if (credit !== undefined) out.credit = int(credit, ['credit'], 1);
  else if ('credit' in input) out.credit = undefined;
  return out;
}

function item(input: Record<string, unknown>): ItemMessage {
  const id = callId(input.id);
  const value = input.value;
  if (value === undefined && !('value' in input)) {
    throw new Invalid(['value'], 'expected nonoptional, received undefined');
  }
  return { type: 'item', id, value };
}

function credit(input: Record<string, unknown>): CreditMessage {
  const id = callId(input.id);
  return { type: 'credit', id, n: int(input.n, ['n'], 1) };
}

/** `z.array(z.string())`. */
function strings(value: unknown, path: Path): string[] {
  const list = array(value, path);
  for (let i = 0; i < list.length; i++) string(list[i], at(path, i));
  return list as string[];
}

function result(input: Record<string, unknown>): ResultMessage {
  const id = callId(input.id);
  const value = input.value;
  if (value === undefined && !('value' in input)) {
    throw new Invalid(['value'], 'expected nonoptional, received undefined');
  }
  const out: ResultMessage = { type: 'result', id, value };
  const log = input.log;
  if (log !== undefined) out.log = logRecord(log, ['log']);
  else if ('log' in input) out.log = undefined;
  return out;
}

function error(input: Record<string, unknown>): ErrorMessage {
  const id = callId(input.id);
  const out: ErrorMessage = { type: 'error', id, error: wireError(input.error, ['error']) };
  const log = input.log;
  if (log !== undefined) out.log = logRecord(log, ['log']);
  else if ('log' in input) out.log = undefined;
  failuresOf(input, out);
  return out;
}

function hello(input: Record<string, unknown>): HelloMessage {
  const protocol = int(input.protocol, ['protocol'], 1);
  const pid = int(input.pid, ['pid']);
  const server = input.server;
  if (server !== null && typeof server !== 'string') throw expected('string', server, ['server']);
  const worker = int(input.worker, ['worker'], 0);
  const iface = input.interface;
  const out: HelloMessage = {
    type: 'hello',
    protocol,
    pid,
    server,
    worker,
    interface: iface === null ? null : record(iface, ['interface']),
  };
  const streams = input.streams;
  if (streams !== undefined) out.streams = strings(streams, ['streams']);
  else if ('streams' in input) out.streams = undefined;
  const auth = input.auth;
  if (auth !== undefined) {
    if (!isObject(auth)) throw expected('object', auth, ['auth']);
    out.auth = { mac: string(auth.mac, ['auth', 'mac']) };
  } else if ('auth' in input) {
    out.auth = undefined;
  }
  const withheld = input.interfaceWithheld;
  if (withheld !== undefined) {
    if (typeof withheld !== 'boolean') throw expected('boolean', withheld, ['interfaceWithheld']);
    out.interfaceWithheld = withheld;
  } else if ('interfaceWithheld' in input) {
    out.interfaceWithheld = undefined;
  }
  return out;
}

function open(input: Record<string, unknown>): OpenMessage {
  return { type: 'open', protocol: int(input.protocol, ['protocol'], 1) };
}

function challenge(input: Record<string, unknown>): ChallengeMessage {
  return {
    type: 'challenge',
    protocol: int(input.protocol, ['protocol'], 1),
    methods: strings(input.methods, ['methods']),
    nonce: string(input.nonce, ['nonce']),
  };
}

function auth(input: Record<string, unknown>): AuthMessage {
  return {
    type: 'auth',
    method: string(input.method, ['method']),
    keyId: string(input.keyId, ['keyId']),
    nonce: string(input.nonce, ['nonce']),
    mac: string(input.mac, ['mac']),
  };
}

function retire(input: Record<string, unknown>): RetireMessage {
  const out: RetireMessage = { type: 'retire' };
  const reason = input.reason;
  if (reason !== undefined) out.reason = string(reason, ['reason']);
  else if ('reason' in input) out.reason = undefined;
  return out;
}

/** `z.string().nullable()`. */
function nullableString(value: unknown, path: Path): string | null {
  return value === null ? null : string(value, path);
}

/** The supervisor's stats (`serverStatsSchema`), checked in the schema's order. */
function serverStats(value: unknown, path: Path): ServerStatsSnapshot {
  if (!isObject(value)) throw expected('object', value, path);
  const startedAt = value.startedAt;
  const uptime = value.uptime;
  return {
    starting: int(value.starting, at(path, 'starting'), 0),
    spares: int(value.spares, at(path, 'spares'), 0),
    serving: int(value.serving, at(path, 'serving'), 0),
    waitingConnections: int(value.waitingConnections, at(path, 'waitingConnections'), 0),
    spawned: int(value.spawned, at(path, 'spawned'), 0),
    killedHung: int(value.killedHung, at(path, 'killedHung'), 0),
    startFailures: int(value.startFailures, at(path, 'startFailures'), 0),
    consecutiveStartFailures: int(
      value.consecutiveStartFailures,
      at(path, 'consecutiveStartFailures'),
      0,
    ),
    lastStartError: nullableString(value.lastStartError, at(path, 'lastStartError')),
    startedAt: startedAt === null ? null : number(startedAt, at(path, 'startedAt')),
    uptime: uptime === null ? null : int(uptime, at(path, 'uptime'), 0),
    version: nullableString(value.version, at(path, 'version')),
    ...rejected(value, path),
    ...metrics(value, path),
  };
}

/** `z.number().nonnegative()`. */
function nonnegative(value: unknown, path: Path): number {
  const n = number(value, path);
  if (n < 0) throw new Invalid(path, 'too small: expected number to be >=0');
  return n;
}

/** `z.record(z.string(), count)`. */
function counts(value: unknown, path: Path): Record<string, number> {
  const out = record(value, path);
  for (const [key, n] of Object.entries(out)) int(n, at(path, key), 0);
  return out as Record<string, number>;
}

/** A `DurationSummary` (`durationSummarySchema`), in the schema's order. */
function durationSummary(value: unknown, path: Path): DurationSummary {
  if (!isObject(value)) throw expected('object', value, path);
  return {
    count: int(value.count, at(path, 'count'), 0),
    min: nonnegative(value.min, at(path, 'min')),
    mean: nonnegative(value.mean, at(path, 'mean')),
    p50: nonnegative(value.p50, at(path, 'p50')),
    p90: nonnegative(value.p90, at(path, 'p90')),
    p99: nonnegative(value.p99, at(path, 'p99')),
    max: nonnegative(value.max, at(path, 'max')),
  };
}

/** The optional `metrics` (`serverMetricsSchema`), in the schema's order. */
function metrics(value: Record<string, unknown>, path: Path): Pick<ServerStatsSnapshot, 'metrics'> {
  const measured = value.metrics;
  if (measured === undefined) return 'metrics' in value ? { metrics: undefined } : {};
  const where = at(path, 'metrics');
  if (!isObject(measured)) throw expected('object', measured, where);
  return {
    metrics: {
      calls: counts(measured.calls, at(where, 'calls')),
      callDuration: durationSummary(measured.callDuration, at(where, 'callDuration')),
      connectionWait: durationSummary(measured.connectionWait, at(where, 'connectionWait')),
      connectionServe: durationSummary(measured.connectionServe, at(where, 'connectionServe')),
      workersExited: counts(measured.workersExited, at(where, 'workersExited')),
    },
  };
}

/** The optional `rejected` counts: `z.record(z.string(), count)`. */
function rejected(
  value: Record<string, unknown>,
  path: Path,
): Pick<ServerStatsSnapshot, 'rejected'> {
  const counts = value.rejected;
  if (counts === undefined) return 'rejected' in value ? { rejected: undefined } : {};
  const where = at(path, 'rejected');
  const out = record(counts, where);
  for (const [reason, n] of Object.entries(out)) int(n, at(where, reason), 0);
  return { rejected: out as Record<string, number> };
}

function stats(input: Record<string, unknown>): StatsMessage {
  const out: StatsMessage = { type: 'stats', id: callId(input.id) };
  const snapshot = input.stats;
  if (snapshot !== undefined) out.stats = serverStats(snapshot, ['stats']);
  else if ('stats' in input) out.stats = undefined;
  return out;
}

function check(value: unknown): Message {
  if (!isObject(value)) throw expected('object', value, ROOT);
  switch (value.type) {
    case 'call':
      return call(value);
    case 'item':
      return item(value);
    case 'credit':
      return credit(value);
    case 'result':
      return result(value);
    case 'error':
      return error(value);
    case 'cancel':
      return { type: 'cancel', id: callId(value.id) } satisfies CancelMessage;
    case 'done':
      return { type: 'done' };
    case 'open':
      return open(value);
    case 'challenge':
      return challenge(value);
    case 'auth':
      return auth(value);
    case 'hello':
      return hello(value);
    case 'retire':
      return retire(value);
    case 'stats':
      return stats(value);
    default:
      throw new Invalid(['type'], `invalid discriminator value, expected ${TYPES}`);
  }
}

/**
 * Checks a decoded frame value and returns it as a typed message. Anything else (not an
 * object, an unknown `type`, a missing or ill-typed field) throws a ProtocolError that
 * says what was wrong and where.
 */
export function parseMessage(value: unknown): Message {
  try {
    return check(value);
  } catch (error) {
    if (!(error instanceof Invalid)) throw error;
    const where = error.path.length > 0 ? ` at ${error.path.map(String).join('.')}` : '';
    throw new ProtocolError(`invalid message${where}: ${error.message}`, {
      data: { path: error.path },
    });
  }
}
