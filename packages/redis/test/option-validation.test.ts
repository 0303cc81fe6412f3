/**
 * Bad options are refused before anything connects, with INVALID_OPTION and a message that
 * says what was expected and what was received.
 */
import { InvalidOptionError } from '@taskpool/protocol';
import { createQueue, type QueueOptions } from '@taskpool/redis';
import { describe, expect, it } from 'vitest';

const base = { redis: 'redis://127.0.0.1:1', name: 'q' };

const cases: [string, Record<string, unknown>, RegExp][] = [
  [
    'mode',
    { mode: 'fast' },
    /expected `mode` to be 'simple', 'recoverable' or 'reliable', received "fast" \(string\)/,
  ],
  ['name', { name: 'a b' }, /expected `name` to be a string of 1 to 200 letters.*received "a b"/],
  ['name missing', { name: undefined }, /expected `name`.*received undefined/],
  [
    'redis',
    { redis: 42 },
    /expected `redis` to be a URL, ioredis options or an ioredis client, received 42 \(number\)/,
  ],
  ['prefix', { prefix: 'a*b' }, /expected `prefix`.*received "a\*b"/],
  ['priorities empty', { priorities: [] }, /expected `priorities` to be a non-empty array/],
  ['priorities repeated', { priorities: ['a', 'a'] }, /expected `priorities` to be distinct names/],
  [
    'defaultPriority',
    { priorities: ['a'], defaultPriority: 'b' },
    /expected `defaultPriority` to be one of a, received "b"/,
  ],
  [
    'timeout',
    { timeout: -5 },
    /expected `timeout` to be a number of milliseconds above 0, or null for none, received -5/,
  ],
  [
    'maxAttempts',
    { maxAttempts: 0 },
    /expected `maxAttempts` to be an integer from 1 to 1000, received 0/,
  ],
  [
    'maxAttempts outside reliable',
    { mode: 'simple', maxAttempts: 3 },
    /expected `maxAttempts` to be 1 \(only mode 'reliable' retries\), received 3/,
  ],
  [
    'leaseTime',
    { leaseTime: 10 },
    /expected `leaseTime` to be an integer from 100 up, received 10/,
  ],
  [
    'backoff.type',
    { backoff: { type: 'linear', delay: 1 } },
    /expected `backoff.type` to be 'fixed' or 'exponential', received "linear"/,
  ],
  [
    'backoff.jitter',
    { backoff: { type: 'fixed', delay: 1, jitter: 2 } },
    /expected `backoff.jitter` to be a number from 0 to 1, received 2/,
  ],
  [
    'resultTtl',
    { resultTtl: 1.5 },
    /expected `resultTtl` to be an integer from 1000 up, received 1.5/,
  ],
  ['onError', { onError: 'log' }, /expected `onError` to be a function/],
];

describe('createQueue option validation', () => {
  it.each(cases)('refuses a bad %s', (_, bad, message) => {
    let thrown: unknown;
    try {
      createQueue({ ...base, ...bad } as unknown as QueueOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).code).toBe('INVALID_OPTION');
    expect((thrown as Error).message).toMatch(message);
  });

  it('refuses bad worker and submit options the same way', async () => {
    const queue = createQueue({ ...base, priorities: ['high', 'low'] });
    try {
      expect(() => queue.jobs({ concurrency: 0 })).toThrow(
        /expected `concurrency` to be an integer from 1 to 10000, received 0/,
      );
      expect(() => queue.jobs({ priorities: ['mid'] })).toThrow(
        /expected `priorities` to be among high, low, received "mid"/,
      );
      await expect(queue.submit('x', { priority: 'mid' })).rejects.toThrow(
        /expected `priority` to be one of high, low, received "mid"/,
      );
      await expect(queue.submit('x', { timeout: 0 })).rejects.toBeInstanceOf(InvalidOptionError);
    } finally {
      await queue.close({ timeout: 100 });
    }
  });
});
