/**
 * Bad options are refused before anything connects, with INVALID_OPTION and a message in
 * the form every package uses: which option, what was expected and what was received.
 */
import { InvalidOptionError, MAX_TIMER_MS } from '@taskpool/protocol';
import { createQueue, type QueueOptions, serveQueue } from '@taskpool/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../../test/helpers/redis-server.js';
import { deleteUnder, uniquePrefix } from './helpers/keys.js';

const base = { redis: 'redis://127.0.0.1:1', name: 'q' };

const cases: [string, Record<string, unknown>, string][] = [
  [
    'mode',
    { mode: 'fast' },
    'option mode: expected "simple", "recoverable" or "reliable", received "fast" (a string)',
  ],
  [
    'name',
    { name: 'a b' },
    'option name: expected a string of 1 to 200 letters, digits, "_", "-" or ".", received "a b" (a string)',
  ],
  [
    'name missing',
    { name: undefined },
    'option name: expected a string of 1 to 200 letters, digits, "_", "-" or ".", received nothing',
  ],
  [
    'redis',
    { redis: 42 },
    'option redis: expected a URL, ioredis options, or an ioredis Redis or Cluster client, received 42',
  ],
  [
    'prefix',
    { prefix: 'a*b' },
    'option prefix: expected a string of 1 to 200 letters, digits, "_", "-" or "." (no "{" or "}": the name after it is the hash tag), received "a*b" (a string)',
  ],
  [
    'prefix with a hash tag',
    { prefix: '{jobs}' },
    'option prefix: expected a string of 1 to 200 letters, digits, "_", "-" or "." (no "{" or "}": the name after it is the hash tag), received "{jobs}" (a string)',
  ],
  [
    'priorities empty',
    { priorities: [] },
    'option priorities: expected a non-empty array of distinct names of 1 to 200 letters, digits, "_", "-" or ".", received an empty array',
  ],
  [
    'priorities repeated',
    { priorities: ['a', 'a'] },
    'option priorities: expected a non-empty array of distinct names of 1 to 200 letters, digits, "_", "-" or ".", received an array of 2 items',
  ],
  [
    'defaultPriority',
    { priorities: ['a', 'b'], defaultPriority: 'c' },
    'option defaultPriority: expected "a" or "b", received "c" (a string)',
  ],
  [
    'timeout',
    { timeout: -5 },
    'option timeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received -5',
  ],
  [
    'maxAttempts',
    { maxAttempts: 0 },
    'option maxAttempts: expected an integer from 1 to 1000, received 0',
  ],
  [
    'maxAttempts outside reliable',
    { mode: 'simple', maxAttempts: 3 },
    'option maxAttempts: expected 1 (only mode "reliable" retries), received 3',
  ],
  [
    'leaseTime',
    { leaseTime: 10 },
    'option leaseTime: expected a whole number of milliseconds from 100 to 2147483647, received 10',
  ],
  [
    'leaseTime above the timer bound',
    { leaseTime: MAX_TIMER_MS + 1 },
    'option leaseTime: expected a whole number of milliseconds from 100 to 2147483647, received 2147483648',
  ],
  [
    'backoff',
    { backoff: 'slow' },
    'option backoff: expected a number of milliseconds, or { type, delay?, jitter? }, received "slow" (a string)',
  ],
  [
    'backoff as a number',
    { backoff: MAX_TIMER_MS + 1 },
    'option backoff: expected a whole number of milliseconds from 0 to 2147483647, received 2147483648',
  ],
  [
    'backoff.type',
    { backoff: { type: 'linear', delay: 1 } },
    'option backoff.type: expected "fixed" or "exponential", received "linear" (a string)',
  ],
  [
    'backoff.delay',
    { backoff: { type: 'fixed', delay: MAX_TIMER_MS + 1 } },
    'option backoff.delay: expected a whole number of milliseconds from 0 to 2147483647, received 2147483648',
  ],
  [
    'backoff.jitter',
    { backoff: { type: 'fixed', delay: 1, jitter: 2 } },
    'option backoff.jitter: expected a number from 0 to 1, received 2',
  ],
  [
    'resultTtl',
    { resultTtl: 1.5 },
    'option resultTtl: expected a whole number of milliseconds >= 1000, received 1.5',
  ],
  [
    'closeTimeout',
    { closeTimeout: MAX_TIMER_MS + 1 },
    'option closeTimeout: expected a whole number of milliseconds from 0 to 2147483647, received 2147483648',
  ],
  ['onError', { onError: 'log' }, 'option onError: expected a function, received "log" (a string)'],
  [
    'metrics',
    { metrics: 'yes' },
    'option metrics: expected true or false, received "yes" (a string)',
  ],
  ['an unknown option', { maxAttempt: 2 }, 'unknown option maxAttempt (did you mean maxAttempts?)'],
  ['an unknown option, nothing close', { concurrency: 2 }, 'unknown option concurrency'],
  [
    'an unknown nested option',
    { backoff: { type: 'fixed', dealy: 5 } },
    'unknown option backoff.dealy (did you mean backoff.delay?)',
  ],
];

/** What `fn` throws or rejects with. */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Checks that `fn` fails with INVALID_OPTION and `message`. */
async function refuses(fn: () => unknown, message: string): Promise<void> {
  const error = await failure(fn);
  expect(error).toBeInstanceOf(InvalidOptionError);
  expect((error as InvalidOptionError).code).toBe('INVALID_OPTION');
  expect((error as Error).message).toBe(message);
}

describe('createQueue option validation', () => {
  it.each(cases)('refuses a bad %s', async (_, bad, message) => {
    await refuses(
      () => createQueue({ ...base, ...bad } as unknown as QueueOptions),
      `createQueue: ${message}`,
    );
  });

  it('accepts a backoff in milliseconds and the bounds themselves', async () => {
    const queue = createQueue({
      ...base,
      backoff: 0,
      leaseTime: MAX_TIMER_MS,
      timeout: null,
      priorities: ['high', 'low'],
      defaultPriority: 'low',
    });
    await queue.close({ timeout: 100 });
  });

  it('refuses bad worker, submit, collect and stop options the same way', async () => {
    const queue = createQueue({ ...base, priorities: ['high', 'low'] });
    try {
      await refuses(
        () => queue.jobs({ concurrency: 0 }),
        'jobs: option concurrency: expected an integer from 1 to 10000, received 0',
      );
      await refuses(
        () => queue.jobs({ priorities: ['mid'] }),
        'jobs: option priorities: expected names among "high" or "low", received "mid" (a string)',
      );
      await refuses(
        () => queue.process(() => 1, { concurency: 2 } as never),
        'process: unknown option concurency (did you mean concurrency?)',
      );
      await refuses(
        () => queue.process('run' as never),
        'process: argument handler: expected a function, received "run" (a string)',
      );
      await refuses(
        () => serveQueue(queue as never, { call: async () => 1 }, { signal: 'stop' } as never),
        'serveQueue: option signal: expected an AbortSignal, received "stop" (a string)',
      );
      await refuses(
        () => serveQueue(queue as never, {} as never),
        'serveQueue: argument client: expected an object with call(method, args, options), received an object',
      );
      await refuses(
        () => queue.submit('x', { priority: 'mid' }),
        'submit: option priority: expected "high" or "low", received "mid" (a string)',
      );
      await refuses(
        () => queue.submit('x', { timeout: 0 }),
        'submit: option timeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received 0',
      );
      await refuses(
        () => queue.run('x', { priorty: 'high' } as never),
        'submit: unknown option priorty (did you mean priority?)',
      );
      await refuses(
        () => queue.collect('some-id', { timeout: 'soon' } as never),
        'collect: option timeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received "soon" (a string)',
      );
      await refuses(
        () => queue.collect(5 as never),
        'collect: argument id: expected a job id (a string), received 5',
      );
      await refuses(
        () => queue.stop({ timeout: -1 }),
        'stop: option timeout: expected a number of milliseconds from 0 to 2147483647, received -1',
      );
      await refuses(
        () => queue.close({ timeot: 5 } as never),
        'close: unknown option timeot (did you mean timeout?)',
      );
      // A consumer's own stop() checks them too, and rejects rather than throws.
      const consumer = queue.jobs();
      let stopping: Promise<void> | undefined;
      expect(() => {
        stopping = consumer.stop({ timeout: 'soon' } as never);
      }).not.toThrow();
      await refuses(
        () => stopping,
        'stop: option timeout: expected a number of milliseconds from 0 to 2147483647, received "soon" (a string)',
      );
      await refuses(
        () => consumer.stop({ timout: 5 } as never),
        'stop: unknown option timout (did you mean timeout?)',
      );
      await consumer.stop({ timeout: 0 });
    } finally {
      await queue.close({ timeout: 100 });
    }
  });

  it('refuses more than one attempt per job outside reliable mode', async () => {
    const queue = createQueue({ ...base, mode: 'recoverable' });
    try {
      await refuses(
        () => queue.submit('x', { maxAttempts: 2 }),
        'submit: option maxAttempts: expected 1 (only mode "reliable" retries), received 2',
      );
    } finally {
      await queue.close({ timeout: 100 });
    }
  });
});

describe('what simple mode does not offer', () => {
  it('getJob() and collect() reject, naming the mode option that does not fit', async () => {
    const queue = createQueue({ ...base, mode: 'simple' });
    try {
      let reading: Promise<unknown> | undefined;
      expect(() => {
        reading = queue.getJob('some-id');
      }).not.toThrow();
      await refuses(
        () => reading,
        'createQueue: option mode: expected "recoverable" or "reliable" to use getJob() (simple mode keeps no job records), received "simple" (a string)',
      );
      await refuses(
        () => queue.collect('some-id'),
        'createQueue: option mode: expected "recoverable" or "reliable" to use collect() (simple mode keeps no job records), received "simple" (a string)',
      );
    } finally {
      await queue.close({ timeout: 100 });
    }
  });
});

describe('job.fail() options', () => {
  let redis: { url: string; close(): Promise<void> };
  const prefix = uniquePrefix();
  beforeAll(async () => {
    redis = await useRedis();
  });
  afterAll(async () => {
    await deleteUnder(redis.url, prefix);
    await redis.close();
  });

  it('are checked, unknown keys included; the job can still be failed properly', async () => {
    const queue = createQueue<string, string>({
      redis: redis.url,
      name: 'fail-options',
      mode: 'recoverable',
      prefix,
    });
    try {
      const { result } = await queue.submit('x', { timeout: null });
      const outcome = result.catch((error: unknown) => error);
      const jobs = queue.jobs();
      const { value: job } = await jobs.next();
      if (!job) throw new Error('no job');
      await refuses(
        () => job.fail(new Error('bad input'), { retri: false } as never),
        'fail: unknown option retri (did you mean retry?)',
      );
      await refuses(
        () => job.fail(new Error('bad input'), { retry: 'no' } as never),
        'fail: option retry: expected true or false, received "no" (a string)',
      );
      await refuses(
        () => job.fail(new Error('bad input'), null as never),
        'fail: options: expected an object, received null',
      );
      // Refused options settled nothing: the job is still this worker's to fail.
      expect(job.finishedAt).toBeUndefined();
      expect(await job.fail(new Error('bad input'), { retry: false })).toBe(true);
      expect(await outcome).toMatchObject({ code: 'JOB_FAILED' });
      await jobs.stop({ timeout: 1_000 });
    } finally {
      await queue.close({ timeout: 1_000 });
    }
  });
});
