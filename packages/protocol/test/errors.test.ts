import { readFileSync } from 'node:fs';
import {
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
import { fromWire, toWire } from '@taskpool/protocol/internal';
import { describe, expect, it } from 'vitest';

type Scenario = [ErrorCode, () => TaskpoolError, new (...args: never[]) => TaskpoolError, RegExp];

const scenarios: Scenario[] = [
  ['REMOTE_ERROR', () => new RemoteError('boom', { name: 'TypeError' }), RemoteError, /boom/],
  ['SETUP_FAILED', () => new SetupError('no db'), SetupError, /^setup exception: no db$/],
  ['INVALID_ARGS', () => new ValidationError('INVALID_ARGS', 'bad'), ValidationError, /bad/],
  ['INVALID_RESULT', () => new ValidationError('INVALID_RESULT', 'bad'), ValidationError, /bad/],
  [
    'UNKNOWN_METHOD',
    () => new UnknownMethodError('constructor'),
    UnknownMethodError,
    /unknown method "constructor"/,
  ],
  [
    'PRECEDING_CALL_FAILED',
    () => new PrecedingCallFailedError(),
    PrecedingCallFailedError,
    /earlier call/,
  ],
  [
    'STREAM_ACTIVE',
    () => new StreamActiveError('hash', 'tail'),
    StreamActiveError,
    /cannot call hash while the stream of tail is open/,
  ],
  [
    'STREAM_REQUIRED',
    () => new StreamRequiredError('tail'),
    StreamRequiredError,
    /^tail streams its results: read it as a stream/,
  ],
  ['CANCELLED', () => new CancelledError(), CancelledError, /cancelled/],
  ['TIMEOUT', () => new TimeoutError(200), TimeoutError, /^timed out after 0.2 seconds$/],
  [
    'WORKER_LOST',
    () => new WorkerLostError(),
    WorkerLostError,
    /^worker connection suddenly died$/,
  ],
  ['FATAL_ERROR', () => new FatalError('manual request abort'), FatalError, /manual request abort/],
  ['PROTOCOL_ERROR', () => new ProtocolError('garbage'), ProtocolError, /garbage/],
  [
    'INCOMPATIBLE_PROTOCOL',
    () => new ProtocolError('v9', { code: 'INCOMPATIBLE_PROTOCOL' }),
    ProtocolError,
    /v9/,
  ],
  ['LEASE_EXPIRED', () => new LeaseExpiredError(1500), LeaseExpiredError, /1.5 seconds/],
  ['QUEUE_FULL', () => new QueueFullError(10), QueueFullError, /maxQueue 10/],
  ['SERVER_BUSY', () => new ServerBusyError('full'), ServerBusyError, /full/],
  [
    'WORKER_START_FAILED',
    () => new WorkerStartFailedError('cannot load ./worker.js'),
    WorkerStartFailedError,
    /cannot load/,
  ],
  ['CHECKOUT_RELEASED', () => new CheckoutReleasedError(), CheckoutReleasedError, /released/],
  ['CLOSED', () => new ClosedError('client'), ClosedError, /client is closed/],
  ['INVALID_OPTION', () => new InvalidOptionError('bad option'), InvalidOptionError, /bad option/],
  ['JOB_FAILED', () => new JobFailedError('gave up'), JobFailedError, /gave up/],
  ['AUTH_FAILED', () => new AuthFailedError('wrong key'), AuthFailedError, /wrong key/],
  ['FORBIDDEN', () => new ForbiddenError('refund'), ForbiddenError, /may not call "refund"/],
  [
    'INSECURE_LISTEN',
    () => new InsecureError('INSECURE_LISTEN', 'tcp://0.0.0.0:7000 without tls'),
    InsecureError,
    /without tls/,
  ],
  [
    'INTERFACE_MISMATCH',
    () => new InterfaceMismatchError('none of 3 servers serves sha256:ab'),
    InterfaceMismatchError,
    /none of 3 servers/,
  ],
  [
    'INSECURE_CONNECT',
    () => new InsecureError('INSECURE_CONNECT', 'plaintext to 10.0.0.1'),
    InsecureError,
    /plaintext/,
  ],
];

describe('error table', () => {
  it('covers every code exactly once', () => {
    expect(scenarios.map(([code]) => code).sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it.each(scenarios)('%s: class, code, fatal flag and message', (code, make, Class, message) => {
    const error = make();
    expect(error).toBeInstanceOf(Class);
    expect(error).toBeInstanceOf(TaskpoolError);
    expect(error).toBeInstanceOf(Error);
    expect(isTaskpoolError(error)).toBe(true);
    expect(error.code).toBe(code);
    expect(error.fatal).toBe(ERROR_CODES[code].fatal);
    expect(error.message).toMatch(message);
  });

  it.each(scenarios)(
    '%s: survives the wire with code, name, message and data',
    (code, make, Class) => {
      const error = make();
      const wire = JSON.parse(JSON.stringify(toWire(error)));
      const back = fromWire(wire);
      expect(back.code).toBe(code);
      expect(back).toBeInstanceOf(Class);
      expect(back.message).toBe(error.message);
      expect(back.fatal).toBe(error.fatal);
    },
  );

  it('every code is documented in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    for (const code of Object.keys(ERROR_CODES)) expect(doc).toContain(`\`${code}\``);
  });
});

describe('toWire / fromWire', () => {
  it('keeps a plain error as a RemoteError with its remote name, stack and code', () => {
    const original = Object.assign(new TypeError('bad thing'), { code: 'E_BAD' });
    const back = fromWire(JSON.parse(JSON.stringify(toWire(original))));
    expect(back).toBeInstanceOf(RemoteError);
    const remote = back as RemoteError;
    expect(remote.code).toBe('REMOTE_ERROR');
    expect(remote.fatal).toBe(false);
    expect(remote.remoteName).toBe('TypeError');
    expect(remote.remoteCode).toBe('E_BAD');
    expect(remote.remoteStack).toContain('bad thing');
    expect(remote.message).toBe('bad thing');
  });

  it('keeps data', () => {
    const wire = toWire(new ValidationError('INVALID_ARGS', 'x', { data: { issues: [1] } }));
    expect(fromWire(wire).data).toEqual({ issues: [1] });
  });

  it.each([
    ['a string', 'plain string', /^plain string$/],
    ['undefined', undefined, /undefined was thrown/],
    ['null', null, /null was thrown/],
    ['a number', 42, /non-error thrown: 42/],
    ['an object', { a: 1 }, /non-error thrown: \{"a":1\}/],
    [
      'a cycle',
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
      /non-error thrown/,
    ],
    ['a bigint', 10n, /non-error thrown/],
  ])('turns a thrown %s into a REMOTE_ERROR', (_, thrown, message) => {
    const wire = toWire(thrown);
    expect(wire.code).toBe('REMOTE_ERROR');
    expect(wire.message).toMatch(message);
    expect(() => JSON.stringify(wire)).not.toThrow();
  });

  it('gives the rebuilt error the cause it is given, which the wire form does not carry', () => {
    const cause = new Error('the reason');
    const back = fromWire(toWire(new ClosedError('server')), { cause });
    expect(back).toBeInstanceOf(ClosedError);
    expect(back.cause).toBe(cause);
    expect(Object.keys(back)).not.toContain('cause');
    expect(fromWire(toWire(new TypeError('x')), { cause }).cause).toBe(cause);
    expect('cause' in fromWire(toWire(new ClosedError('server')))).toBe(false);
  });

  it("rebuilds a foreign error as it was thrown with foreign: 'plain'", () => {
    const original = Object.assign(new TypeError('cannot load'), { code: 'ERR_MODULE_NOT_FOUND' });
    const cause = new Error('deeper');
    const back = fromWire(JSON.parse(JSON.stringify(toWire(original))), {
      foreign: 'plain',
      cause,
    }) as Error & { code?: unknown };
    expect(back).not.toBeInstanceOf(RemoteError);
    expect(isTaskpoolError(back)).toBe(false);
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('TypeError');
    expect(back.message).toBe('cannot load');
    expect(back.code).toBe('ERR_MODULE_NOT_FOUND');
    expect(back.stack).toBe(original.stack);
    expect(back.cause).toBe(cause);
    expect(
      fromWire({ code: 'REMOTE_ERROR', name: 'NonError', message: 'm' }, { foreign: 'plain' })
        .stack,
    ).toBe('NonError: m');
    // A taskpool error keeps its class either way.
    const closed = fromWire(toWire(new ClosedError('server')), { foreign: 'plain' });
    expect(closed).toBeInstanceOf(ClosedError);
    expect(closed.message).toBe('server is closed');
  });

  it('makes an unknown code a RemoteError', () => {
    expect(fromWire({ code: 'FROM_THE_FUTURE', name: 'X', message: 'm' })).toBeInstanceOf(
      RemoteError,
    );
  });
});
