/**
 * Server options are checked without zod (every worker runs createServer, and a worker
 * should not load zod for it). This holds the hand-written checks to the zod schema they
 * replaced: same verdicts, same messages, same resolved options.
 */
import { DEFAULT_MAX_FRAME_BYTES, InvalidOptionError, MAX_TIMER_MS } from '@taskpool/protocol';
import { parseOptions } from '@taskpool/protocol/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resolveServerOptions, type ServerOptions } from '../src/options.js';

const TIMER =
  'Too big: expected number to be <=2147483647 (the longest a timer can wait, about 24.8 days';
const ms = z.number().int().nonnegative().max(MAX_TIMER_MS, `${TIMER})`);
const positiveMs = z.number().int().positive().max(MAX_TIMER_MS, `${TIMER})`);
const nullableMs = z
  .number()
  .int()
  .positive()
  .max(MAX_TIMER_MS, `${TIMER}; null for no limit)`)
  .nullable();

/** The schema createServer used before; the reference for the checks. */
const reference = z.object({
  listen: z.union([z.string(), z.object({}).passthrough()]),
  interface: z.unknown().optional(),
  setup: z.function().optional(),
  checkoutDone: z.function().optional(),
  workerModule: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
  name: z.string().optional(),
  spares: z.number().int().nonnegative().default(2),
  maxWorkers: z.number().int().positive().default(64),
  connectionTimeout: ms.default(10_000),
  maxRequestsPerWorker: z.number().int().positive().nullable().default(null),
  spawnInterval: ms.default(0),
  hungWorkerTimeout: nullableMs.default(300_000),
  setupTimeout: nullableMs.default(60_000),
  maxQueuedCalls: z.number().int().positive().default(1_024),
  frameTimeout: positiveMs.default(30_000),
  socketMode: z.number().int().min(0).max(0o777).default(0o600),
  maxFrameBytes: z.number().int().positive().default(DEFAULT_MAX_FRAME_BYTES),
  execArgv: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string().optional()).optional(),
  handleSignals: z.boolean().default(true),
});

function outcome(run: () => unknown): { ok: unknown } | { error: string } {
  try {
    return { ok: run() };
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return { error: (error as Error).message };
  }
}

/** Functions are compared by kind: zod hands back a wrapper, the checks the function itself. */
function comparable(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('ok' in value)) return value;
  const ok = value.ok as Record<string, unknown>;
  return {
    ok: Object.fromEntries(
      Object.entries(ok).map(([key, item]) => [
        key,
        typeof item === 'function' ? 'a function' : item,
      ]),
    ),
  };
}

function compare(input: unknown): void {
  const expected = outcome(() => {
    const resolved = parseOptions('createServer', reference, input);
    if (resolved.interface === undefined && resolved.workerModule === undefined) {
      throw new InvalidOptionError('no interface');
    }
    return resolved;
  });
  const actual = outcome(() => resolveServerOptions(input as ServerOptions));
  if ('error' in expected && expected.error === 'no interface') {
    expect(actual).toMatchObject({ error: expect.stringMatching(/option "interface"/) });
    return;
  }
  expect(comparable(actual)).toStrictEqual(comparable(expected));
}

const odd = fc.constantFrom<unknown>(
  undefined,
  null,
  '',
  'x',
  0,
  -1,
  0.5,
  1.5,
  2 ** 53,
  -(2 ** 53),
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  [],
  ['a', 1],
  {},
  { a: 'x', b: undefined },
  { a: 1 },
  () => 1,
  new URL('file:///tmp/worker.js'),
  new Date(0),
);
const int = fc.oneof(
  fc.integer({ min: -3, max: 1_000 }),
  fc.constantFrom(511, 512, 0o600, MAX_TIMER_MS, MAX_TIMER_MS + 1),
);
const field = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 2, arbitrary: odd });
const options = fc.record(
  {
    listen: field(fc.oneof(fc.constant('unix:/tmp/x.sock'), fc.constant({ path: '/tmp/x' }))),
    interface: field(fc.constant({ echo: (x: unknown) => x })),
    setup: field(fc.constant(() => undefined)),
    checkoutDone: field(fc.constant(async () => undefined)),
    workerModule: field(fc.constantFrom('./worker.js', new URL('file:///w.js'))),
    name: field(fc.string({ maxLength: 4 })),
    spares: field(int),
    maxWorkers: field(int),
    connectionTimeout: field(int),
    maxRequestsPerWorker: field(fc.oneof(int, fc.constant(null))),
    spawnInterval: field(int),
    hungWorkerTimeout: field(fc.oneof(int, fc.constant(null))),
    setupTimeout: field(fc.oneof(int, fc.constant(null))),
    maxQueuedCalls: field(int),
    frameTimeout: field(int),
    socketMode: field(int),
    maxFrameBytes: field(int),
    execArgv: field(fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 })),
    env: field(fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }))),
    handleSignals: field(fc.boolean()),
    other: odd,
  },
  { requiredKeys: [] },
);

describe('server options', () => {
  it('are checked as the zod schema checked them, with its messages', () => {
    fc.assert(fc.property(options, compare), { numRuns: 3_000 });
  });

  it('agree on the documented and the edge cases', () => {
    for (const input of [
      undefined,
      null,
      'x',
      [],
      { listen: 'unix:/tmp/x.sock', interface: {}, spares: -1 },
      { listen: 'unix:/tmp/x.sock', interface: {}, hungWorkerTimeout: 0.5 },
      { listen: 'unix:/tmp/x.sock', interface: {}, connectionTimeout: 2 ** 31 },
      { listen: 'unix:/tmp/x.sock', interface: {}, setupTimeout: 2 ** 31 },
      { listen: 'unix:/tmp/x.sock', interface: {}, frameTimeout: MAX_TIMER_MS },
      { listen: 'unix:/tmp/x.sock', interface: {}, env: { __proto__: null, A: 'b' } },
      { listen: 'unix:/tmp/x.sock', interface: {}, env: { a: 'x', b: undefined } },
      { listen: { path: '/tmp/x' }, interface: {}, execArgv: [], handleSignals: false },
      { listen: 'unix:/tmp/x.sock', interface: {}, execArgv: ['--x', 2] },
      { listen: 'unix:/tmp/x.sock', interface: {}, workerModule: '' },
      { listen: 'unix:/tmp/x.sock', workerModule: new URL('file:///w.js') },
      Object.assign(Object.create({ spares: 5 }), { listen: 'unix:/tmp/x.sock', interface: {} }),
    ]) {
      compare(input);
    }
    expect(() =>
      resolveServerOptions({ listen: 'unix:/tmp/x.sock', interface: {}, spares: -1 }),
    ).toThrow('createServer: option "spares": Too small: expected number to be >=0, received -1');
    // Node fires a timer longer than 2^31 - 1 ms after 1 ms: such a timeout is refused.
    expect(() =>
      resolveServerOptions({
        listen: 'unix:/tmp/x.sock',
        interface: {},
        hungWorkerTimeout: 2 ** 31,
      }),
    ).toThrow(
      'createServer: option "hungWorkerTimeout": Too big: expected number to be <=2147483647 (the longest a timer can wait, about 24.8 days; null for no limit), received 2147483648',
    );
  });
});
