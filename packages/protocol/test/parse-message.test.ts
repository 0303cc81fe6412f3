import { ProtocolError } from '@taskpool/protocol';
import { encodeFrame, FrameDecoder, type Message, parseMessage } from '@taskpool/protocol/internal';
import { messageSchema } from '@taskpool/protocol/schemas';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const valid: Message[] = [
  { type: 'hello', protocol: 1, pid: 42, server: 'x', worker: 1, interface: null },
  { type: 'open', protocol: 4 },
  { type: 'challenge', protocol: 4, methods: ['hmac-sha256'], nonce: 'bm9uY2U=' },
  { type: 'auth', method: 'hmac-sha256', keyId: 'k1', nonce: 'Y2xpZW50', mac: 'bWFj' },
  {
    type: 'hello',
    protocol: 4,
    pid: 42,
    server: null,
    worker: 1,
    interface: null,
    auth: { mac: 'bWFj' },
    interfaceWithheld: true,
  },
  {
    type: 'hello',
    protocol: 2,
    pid: 42,
    server: null,
    worker: 1,
    interface: null,
    streams: ['tail'],
  },
  { type: 'call', id: 0, method: 'hash', args: ['secret'] },
  { type: 'call', id: 4, method: 'tail', args: ['x'], credit: 16 },
  { type: 'item', id: 4, value: { line: 'a' } },
  { type: 'credit', id: 4, n: 8 },
  {
    type: 'call',
    id: 1,
    method: null,
    args: [1, [2]],
    deadline: 1_700_000_000_000,
    scope: { rid: 'a' },
  },
  { type: 'result', id: 1, value: { ok: true }, log: { start: 1, logs: [[0.1, 30, 'hi']] } },
  { type: 'error', id: 2, error: { code: 'REMOTE_ERROR', name: 'Error', message: 'boom' } },
  { type: 'cancel', id: 3 },
  { type: 'done' },
  { type: 'retire', reason: 'maxRequestsPerWorker' },
  { type: 'stats', id: 5 },
  {
    type: 'stats',
    id: 5,
    stats: {
      starting: 0,
      spares: 1,
      serving: 2,
      waitingConnections: 0,
      spawned: 3,
      killedHung: 0,
      startFailures: 0,
      consecutiveStartFailures: 0,
      lastStartError: null,
      startedAt: 1_795_411_706_019.5,
      uptime: 1_234,
      version: '0.1.0',
    },
  },
];

describe('parseMessage', () => {
  it.each(valid.map((message) => [message.type, message]))('accepts a valid %s', (_, message) => {
    expect(parseMessage(JSON.parse(JSON.stringify(message)))).toEqual(message);
  });

  it.each([
    ['a number', 5],
    ['null', null],
    ['an array', ['do', {}, 'x']],
    ['an unknown type', { type: 'sk' }],
    ['a call without args', { type: 'call', id: 1, method: 'x' }],
    ['a negative id', { type: 'cancel', id: -1 }],
    ['a fractional id', { type: 'cancel', id: 1.5 }],
    ['a zero credit', { type: 'credit', id: 1, n: 0 }],
    ['an item without a value', { type: 'item', id: 1 }],
    ['a call with a zero credit', { type: 'call', id: 1, method: 'x', args: [], credit: 0 }],
    ['a stats request without an id', { type: 'stats' }],
    ['stats that are not an object', { type: 'stats', id: 1, stats: [1, 2] }],
    [
      'stats with a negative count',
      {
        type: 'stats',
        id: 1,
        stats: {
          starting: -1,
          spares: 0,
          serving: 0,
          waitingConnections: 0,
          spawned: 0,
          killedHung: 0,
          startFailures: 0,
          consecutiveStartFailures: 0,
          lastStartError: null,
          startedAt: null,
          uptime: null,
          version: null,
        },
      },
    ],
    [
      'a hello with a stream that is not a name',
      {
        type: 'hello',
        protocol: 2,
        pid: 1,
        server: null,
        worker: 1,
        interface: null,
        streams: [1],
      },
    ],
    [
      'a hello with a string protocol',
      { type: 'hello', protocol: '1', pid: 1, server: null, worker: 1, interface: null },
    ],
  ])('refuses %s with a ProtocolError', (_, value) => {
    expect(() => parseMessage(value)).toThrow(ProtocolError);
  });

  it('says where a message is wrong', () => {
    expect(() => parseMessage({ type: 'call', id: 'one', method: 'x', args: [] })).toThrow(/at id/);
  });

  it('does not let __proto__ keys reach any prototype', () => {
    const text =
      '{"type":"call","id":1,"method":"x","args":[{"__proto__":{"polluted":1}}],"__proto__":{"polluted":2}}';
    const decoder = new FrameDecoder();
    const body = Buffer.from(text);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    const [value] = decoder.push(Buffer.concat([header, body]));
    const message = parseMessage(value);
    expect(message.type).toBe('call');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(message)).toBe(Object.prototype);
  });

  it('turns any decoded JSON into a message or a ProtocolError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({
            type: fc.constantFrom(
              'open',
              'challenge',
              'auth',
              'hello',
              'call',
              'item',
              'credit',
              'result',
              'error',
              'cancel',
              'done',
              'retire',
              'stats',
              'x',
            ),
            id: fc.jsonValue(),
          }),
        ),
        (value) => {
          const [decoded] = new FrameDecoder().push(encodeFrame(value));
          try {
            parseMessage(decoded);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

/**
 * The hand-written gate against the zod schemas it stands for: on every value JSON.parse
 * can return, the same verdict, the same parsed message and the same path to the first
 * problem.
 */
describe('parseMessage matches messageSchema', () => {
  const json = fc.jsonValue({ maxDepth: 2 });
  const num = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, 1, -1, 0.5, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), -(2 ** 53) + 1, 1e308),
  );
  const key = fc.oneof(
    { weight: 5, arbitrary: fc.string({ maxLength: 6 }) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'type') },
  );
  const dict = fc.dictionary(key, json, { maxKeys: 4 });
  /** A field: usually of the right kind, sometimes anything. */
  const field = <T>(valid: fc.Arbitrary<T>) =>
    fc.oneof(
      { weight: 6, arbitrary: valid as fc.Arbitrary<unknown> },
      { weight: 1, arbitrary: json },
      { weight: 1, arbitrary: num },
      { weight: 1, arbitrary: fc.constantFrom(null, '', 'x', true, [], {}) },
    );
  const id = field(fc.oneof(fc.nat(), num));
  const logRecord = fc.record(
    {
      start: field(num),
      end: field(num),
      logs: field(
        fc.array(
          fc.oneof(
            fc.tuple(num, num),
            fc.tuple(num, num, json),
            fc.tuple(num),
            fc.array(json, { maxLength: 3 }),
          ),
          { maxLength: 3 },
        ),
      ),
      timers: field(
        fc.array(
          fc.oneof(
            fc.tuple(fc.string(), num),
            fc.tuple(fc.string(), num, num),
            fc.tuple(fc.string(), num, num, num),
            fc.tuple(fc.string()),
            fc.array(json, { maxLength: 4 }),
          ),
          { maxLength: 3 },
        ),
      ),
      data: field(dict),
      extra: json,
    },
    { requiredKeys: [] },
  );
  const wireError = fc.record(
    {
      code: field(fc.string()),
      name: field(fc.string()),
      message: field(fc.string()),
      stack: field(fc.string()),
      data: json,
      remoteCode: field(fc.oneof(fc.string(), num)),
      extra: json,
    },
    { requiredKeys: ['code', 'name', 'message'] },
  );
  /**
   * A field of the stats: nearly always right, so that with twelve of them a whole snapshot
   * is often valid, and each field is still often the first one wrong.
   */
  const rarelyWrong = <T>(valid: fc.Arbitrary<T>) =>
    fc.oneof(
      { weight: 40, arbitrary: valid as fc.Arbitrary<unknown> },
      { weight: 1, arbitrary: json },
      { weight: 1, arbitrary: num },
      // undefined: the key is left out (the value goes through JSON).
      { weight: 1, arbitrary: fc.constantFrom(null, '', 'x', true, [], {}, -1, 0.5, undefined) },
    );
  const count = rarelyWrong(fc.nat());
  const nullableString = rarelyWrong(fc.oneof(fc.string(), fc.constant(null)));
  const countsBy = rarelyWrong(fc.dictionary(key, fc.oneof(fc.nat(), num), { maxKeys: 3 }));
  const milliseconds = rarelyWrong(
    fc.oneof(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), num),
  );
  const durationSummary = rarelyWrong(
    fc.record(
      {
        count,
        min: milliseconds,
        mean: milliseconds,
        p50: milliseconds,
        p90: milliseconds,
        p99: milliseconds,
        max: milliseconds,
        extra: json,
      },
      { requiredKeys: ['count', 'min', 'mean', 'p50', 'p90', 'p99', 'max'] },
    ),
  );
  const serverMetrics = fc.record(
    {
      calls: countsBy,
      callDuration: durationSummary,
      connectionWait: durationSummary,
      connectionServe: durationSummary,
      workersExited: countsBy,
      extra: json,
    },
    {
      requiredKeys: ['calls', 'callDuration', 'connectionWait', 'connectionServe', 'workersExited'],
    },
  );
  const serverStats = fc.record(
    {
      starting: count,
      spares: count,
      serving: count,
      waitingConnections: count,
      spawned: count,
      killedHung: count,
      startFailures: count,
      consecutiveStartFailures: count,
      lastStartError: nullableString,
      startedAt: rarelyWrong(fc.oneof(num, fc.constant(null))),
      uptime: rarelyWrong(fc.oneof(fc.nat(), fc.constant(null))),
      version: nullableString,
      rejected: field(fc.dictionary(fc.string(), fc.oneof(fc.nat(), num), { maxKeys: 3 })),
      metrics: field(serverMetrics),
      extra: json,
    },
    {
      requiredKeys: [
        'starting',
        'spares',
        'serving',
        'waitingConnections',
        'spawned',
        'killedHung',
        'startFailures',
        'consecutiveStartFailures',
        'lastStartError',
        'startedAt',
        'uptime',
        'version',
      ],
    },
  );
  const typeOf = (type: string) =>
    fc.oneof({ weight: 9, arbitrary: fc.constant(type) }, { weight: 1, arbitrary: json });
  const messages = fc.oneof(
    fc.record(
      {
        type: typeOf('hello'),
        protocol: field(fc.oneof(fc.nat(), num)),
        pid: field(fc.oneof(fc.nat(), num)),
        server: field(fc.oneof(fc.string(), fc.constant(null))),
        worker: field(fc.oneof(fc.nat(), num)),
        interface: field(fc.oneof(dict, fc.constant(null))),
        streams: field(fc.array(fc.oneof(fc.string(), json), { maxLength: 3 })),
        auth: field(fc.record({ mac: field(fc.string()), extra: json }, { requiredKeys: [] })),
        interfaceWithheld: field(fc.boolean()),
        extra: json,
      },
      { requiredKeys: ['type'] },
    ),
    fc.record(
      { type: typeOf('open'), protocol: field(fc.oneof(fc.nat(), num)), extra: json },
      { requiredKeys: ['type'] },
    ),
    fc.record(
      {
        type: typeOf('challenge'),
        protocol: field(fc.oneof(fc.nat(), num)),
        methods: field(fc.array(fc.oneof(fc.string(), json), { maxLength: 3 })),
        nonce: field(fc.string()),
        extra: json,
      },
      { requiredKeys: ['type'] },
    ),
    fc.record(
      {
        type: typeOf('auth'),
        method: field(fc.string()),
        keyId: field(fc.string()),
        nonce: field(fc.string()),
        mac: field(fc.string()),
        extra: json,
      },
      { requiredKeys: ['type'] },
    ),
    fc.record(
      {
        type: typeOf('call'),
        id,
        method: field(fc.oneof(fc.string(), fc.constant(null))),
        args: field(fc.array(json, { maxLength: 3 })),
        deadline: field(num),
        scope: field(dict),
        failures: field(fc.oneof(fc.nat(), num)),
        credit: field(fc.oneof(fc.nat(), num)),
        extra: json,
      },
      { requiredKeys: ['type'] },
    ),
    fc.record({ type: typeOf('item'), id, value: json, extra: json }, { requiredKeys: ['type'] }),
    fc.record(
      { type: typeOf('credit'), id, n: field(fc.oneof(fc.nat(), num)), extra: json },
      { requiredKeys: ['type'] },
    ),
    fc.record(
      { type: typeOf('result'), id, value: json, log: field(logRecord), extra: json },
      { requiredKeys: ['type'] },
    ),
    fc.record(
      {
        type: typeOf('error'),
        id,
        error: field(wireError),
        log: field(logRecord),
        failures: field(fc.oneof(fc.nat(), num)),
        extra: json,
      },
      { requiredKeys: ['type'] },
    ),
    fc.record({ type: typeOf('cancel'), id, extra: json }, { requiredKeys: ['type'] }),
    fc.record({ type: typeOf('done'), extra: json }, { requiredKeys: ['type'] }),
    fc.record(
      { type: typeOf('retire'), reason: field(fc.string()), extra: json },
      { requiredKeys: ['type'] },
    ),
    fc.record(
      { type: typeOf('stats'), id, stats: field(serverStats), extra: json },
      { requiredKeys: ['type'] },
    ),
  );

  const compare = (value: unknown) => {
    const decoded: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
    const expected = messageSchema.safeParse(decoded);
    let parsed: Message | undefined;
    let failure: ProtocolError | undefined;
    try {
      parsed = parseMessage(decoded);
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      failure = error as ProtocolError;
    }
    if (expected.success) {
      expect(failure).toBeUndefined();
      expect(parsed).toStrictEqual(expected.data);
    } else {
      expect(parsed).toBeUndefined();
      expect(failure?.data).toEqual({ path: expected.error.issues[0]?.path });
    }
  };

  it('on arbitrary JSON', () => {
    fc.assert(fc.property(json, compare), { numRuns: 2_000 });
  });

  it('on messages of every type, right and wrong in every field', () => {
    fc.assert(fc.property(messages, compare), { numRuns: 20_000 });
  });

  it('on the valid examples and the edge cases', () => {
    for (const value of [
      ...valid,
      { type: 'cancel', id: -0 },
      { type: 'cancel', id: 2 ** 53 },
      { type: 'result', id: 1 },
      { type: 'call', id: 1, method: null, args: [], scope: { __proto__: { a: 1 }, b: 2 } },
      JSON.parse('{"type":"call","id":1,"method":"x","args":[],"scope":{"__proto__":{"a":1}}}'),
      JSON.parse(
        '{"type":"hello","protocol":1,"pid":-5,"server":null,"worker":0,"interface":{"__proto__":1}}',
      ),
      JSON.parse('{"type":"done","__proto__":{"type":"call"}}'),
      { type: 'error', id: 1, error: { code: 'x', name: 'y', message: 'z', remoteCode: 1.5 } },
      { type: 'result', id: 1, value: 1, log: { start: 1, logs: [[1, 2, 3, 4]], timers: [] } },
    ]) {
      compare(value);
    }
  });
});
