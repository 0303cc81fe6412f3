import { InvalidOptionError, MAX_TIMER_MS } from '@taskpool/protocol';
import {
  boolean,
  checkOption,
  checkOptions,
  describeValue,
  endpoint,
  endpoints,
  integer,
  milliseconds,
  nested,
  nullable,
  number,
  oneOf,
  option,
  optional,
  optionError,
  required,
  resolveOptions,
  string,
} from '@taskpool/protocol/internal';
import { describe, expect, it } from 'vitest';

const SPEC = {
  connect: required(string),
  name: optional(string),
  maxWorkers: option(integer(1), 20),
  socketMode: option(integer(0, 0o777), 0o600),
  timeout: option(nullable(milliseconds(1)), 30_000),
  mode: option(oneOf(['simple', 'reliable']), 'reliable'),
  jitter: option(number(0, 1), 0),
  quiet: option(boolean, false),
  reconnect: nested({
    first: option(milliseconds(0), 200),
    every: option(milliseconds(1), 1_000),
  }),
};

/** The message of what `fn` throws, checking that it is an INVALID_OPTION. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('INVALID_OPTION');
    return (error as Error).message;
  }
  throw new Error('did not throw');
}

const resolve = (input: unknown) => resolveOptions('createClient', SPEC, input);

describe('resolveOptions', () => {
  it('fills in defaults, nested ones too, and keeps what was given', () => {
    expect(resolve({ connect: 'unix:/x', reconnect: { every: 50 } })).toStrictEqual({
      connect: 'unix:/x',
      name: undefined,
      maxWorkers: 20,
      socketMode: 0o600,
      timeout: 30_000,
      mode: 'reliable',
      jitter: 0,
      quiet: false,
      reconnect: { first: 200, every: 50 },
    });
    const given = resolve({ connect: 'a', timeout: null, maxWorkers: 1, quiet: true });
    expect(given).toMatchObject({ timeout: null, maxWorkers: 1, quiet: true });
    expect(given.reconnect).toStrictEqual({ first: 200, every: 1_000 });
  });

  it('says which option, what was expected and what came, in one form', () => {
    expect(messageOf(() => resolve({ connect: 'a', maxWorkers: -1 }))).toBe(
      'createClient: option maxWorkers: expected an integer >= 1, received -1',
    );
    expect(messageOf(() => resolve({ connect: 'a', socketMode: 0o1000 }))).toBe(
      'createClient: option socketMode: expected an integer from 0 to 511, received 512',
    );
    expect(messageOf(() => resolve({ connect: 'a', timeout: MAX_TIMER_MS + 1 }))).toBe(
      'createClient: option timeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received 2147483648',
    );
    expect(messageOf(() => resolve({ connect: 'a', mode: 'fast' }))).toBe(
      'createClient: option mode: expected "simple" or "reliable", received "fast" (a string)',
    );
    expect(messageOf(() => resolve({ connect: 'a', jitter: Number.NaN }))).toBe(
      'createClient: option jitter: expected a number from 0 to 1, received NaN',
    );
    expect(messageOf(() => resolve({ connect: 'a', quiet: 'yes' }))).toBe(
      'createClient: option quiet: expected true or false, received "yes" (a string)',
    );
    expect(messageOf(() => resolve({ maxWorkers: 2 }))).toBe(
      'createClient: option connect: expected a string, received nothing',
    );
    expect(messageOf(() => resolve('unix:/x'))).toBe(
      'createClient: options: expected an object, received "unix:/x" (a string)',
    );
  });

  it('names a nested option by its path', () => {
    expect(messageOf(() => resolve({ connect: 'a', reconnect: { first: 'fast' } }))).toBe(
      'createClient: option reconnect.first: expected a number of milliseconds from 0 to 2147483647, received "fast" (a string)',
    );
    expect(messageOf(() => resolve({ connect: 'a', reconnect: 5 }))).toBe(
      'createClient: option reconnect: expected an object, received 5',
    );
  });

  it('refuses unknown options, suggesting the nearest known name when one is close', () => {
    expect(messageOf(() => resolve({ connect: 'a', maxWorker: 4 }))).toBe(
      'createClient: unknown option maxWorker (did you mean maxWorkers?)',
    );
    // A swap of neighbours is one edit; letter case does not count.
    expect(messageOf(() => resolve({ connect: 'a', tiemout: 4 }))).toContain(
      '(did you mean timeout?)',
    );
    expect(messageOf(() => resolve({ connect: 'a', MAXWORKERS: 4 }))).toContain(
      '(did you mean maxWorkers?)',
    );
    expect(messageOf(() => resolve({ connect: 'a', spare: 1 }))).toBe(
      'createClient: unknown option spare',
    );
    expect(messageOf(() => resolve({ connect: 'a', reconnect: { frist: 1 } }))).toBe(
      'createClient: unknown option reconnect.frist (did you mean reconnect.first?)',
    );
    // An unknown option is refused even when it is undefined: it is still a typo.
    expect(messageOf(() => resolve({ connect: 'a', nmae: undefined }))).toBe(
      'createClient: unknown option nmae (did you mean name?)',
    );
  });

  it('reads inherited options, but only own keys can be unknown', () => {
    const input = Object.assign(Object.create({ maxWorkers: 5, inherited: true }), {
      connect: 'a',
    });
    expect(resolve(input).maxWorkers).toBe(5);
  });

  it('treats undefined options as none', () => {
    expect(messageOf(() => resolveOptions('x', SPEC, undefined))).toBe(
      'x: option connect: expected a string, received nothing',
    );
    expect(resolveOptions('x', { a: option(integer(0), 1) }, undefined)).toStrictEqual({ a: 1 });
  });
});

describe('checkOptions and checkOption', () => {
  it('check as resolveOptions does, without a result', () => {
    expect(checkOptions('call', SPEC, { connect: 'a', timeout: 5 })).toBeUndefined();
    expect(messageOf(() => checkOptions('call', SPEC, { connect: 'a', timeot: 5 }))).toBe(
      'call: unknown option timeot (did you mean timeout?)',
    );
    expect(checkOption('call', 'timeout', milliseconds(1), undefined)).toBeUndefined();
    expect(messageOf(() => checkOption('call', 'timeout', milliseconds(1), 0))).toBe(
      'call: option timeout: expected a number of milliseconds from 1 to 2147483647, received 0',
    );
  });

  it('walk nested options too, and refuse null for options', () => {
    const spec = { reconnect: nested({ first: option(milliseconds(0), 200) }) };
    expect(checkOptions('x', spec, { reconnect: { first: 5 } })).toBeUndefined();
    expect(messageOf(() => checkOptions('x', spec, { reconnect: { first: 'fast' } }))).toBe(
      'x: option reconnect.first: expected a number of milliseconds from 0 to 2147483647, received "fast" (a string)',
    );
    expect(messageOf(() => checkOptions('x', spec, { reconnect: { frist: 5 } }))).toBe(
      'x: unknown option reconnect.frist (did you mean reconnect.first?)',
    );
    expect(messageOf(() => checkOptions('x', spec, null))).toBe(
      'x: options: expected an object, received null',
    );
    expect(messageOf(() => resolveOptions('x', spec, null))).toBe(
      'x: options: expected an object, received null',
    );
    expect(checkOptions('x', spec, undefined)).toBeUndefined();
  });

  it('whole durations and unbounded ones say so', () => {
    expect(messageOf(() => checkOption('q', 'ttl', milliseconds(1_000, { max: null }), 5))).toBe(
      'q: option ttl: expected a number of milliseconds >= 1000, received 5',
    );
    expect(
      messageOf(() => checkOption('q', 'lease', milliseconds(100, { whole: true }), 1.5)),
    ).toBe(
      'q: option lease: expected a whole number of milliseconds from 100 to 2147483647, received 1.5',
    );
  });
});

describe('endpoints', () => {
  it('are what parseEndpoint takes, in the one message form', () => {
    const spec = { listen: required(endpoint), connect: optional(endpoints) };
    expect(checkOptions('s', spec, { listen: 'tcp://127.0.0.1:0', connect: ['/a.sock'] })).toBe(
      undefined,
    );
    expect(messageOf(() => checkOptions('s', spec, { listen: 'tcp://x:99999' }))).toBe(
      's: option listen: expected an endpoint (unix:/path, an absolute path, tcp://host:port or tls://host:port with a port from 0 to 65535, { path } or { host, port }), received "tcp://x:99999" (a string)',
    );
    expect(messageOf(() => checkOptions('s', spec, { listen: '/a', connect: [] }))).toMatch(
      /^s: option connect: expected an endpoint .*, or a non-empty array of them, received an empty array$/,
    );
  });
});

describe('errors built by hand', () => {
  it('take the same form', () => {
    expect(optionError('createQueue', 'defaultPriority', 'one of "a"', 'b').message).toBe(
      'createQueue: option defaultPriority: expected one of "a", received "b" (a string)',
    );
    const cause = new Error('why');
    expect(optionError('x', '', 'an object', null, cause)).toMatchObject({
      code: 'INVALID_OPTION',
      message: 'x: options: expected an object, received null',
      cause,
    });
  });
});

describe('describeValue', () => {
  it('shows a value clearly', () => {
    expect(
      [
        undefined,
        null,
        -1,
        Number.POSITIVE_INFINITY,
        true,
        '5',
        5n,
        [],
        [1, 2],
        {},
        Object.create(null),
        new Date(0),
        new URL('file:///w.js'),
        () => 1,
        Symbol('s'),
        'x'.repeat(100),
      ].map(describeValue),
    ).toEqual([
      'nothing',
      'null',
      '-1',
      'Infinity',
      'true',
      '"5" (a string)',
      '5n (a bigint)',
      'an empty array',
      'an array of 2 items',
      'an object',
      'an object',
      'a Date object',
      'a URL object',
      'a function',
      'Symbol(s) (a symbol)',
      `"${'x'.repeat(57)}..." (a string)`,
    ]);
  });
});
