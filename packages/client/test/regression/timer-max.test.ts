// Node fires a timer of 2^31 ms or more after about 1 ms: a timeout that large expired at
// once. Every timer option is bounded by MAX_TIMER_MS (2^31 - 1; null is no limit) and a
// larger one is refused with INVALID_OPTION; a delay above the max is clamped to it.
import { createClient } from '@taskpool/client';
import { MAX_TIMER_MS } from '@taskpool/protocol';
import { createQueue } from '@taskpool/redis';
import { describe, expect, it } from 'vitest';
import { timerDelay } from '../../src/deadline-queue.js';
import { clientOf, serve, warm } from '../helpers/harness.js';

const TOO_LONG = MAX_TIMER_MS + 1;

/** The error `fn` throws (or undefined). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('client options above MAX_TIMER_MS are refused', () => {
  const cases: [string, Record<string, unknown>, boolean][] = [
    ['timeout', { timeout: TOO_LONG }, true],
    ['leaseTimeout', { leaseTimeout: TOO_LONG }, true],
    ['idleTimeout', { idleTimeout: TOO_LONG }, true],
    ['cancelGrace', { cancelGrace: TOO_LONG }, false],
    ['connectTimeout', { connectTimeout: TOO_LONG }, false],
    ['reconnect.first', { reconnect: { first: TOO_LONG } }, false],
    ['reconnect.every', { reconnect: { every: TOO_LONG } }, false],
  ];
  for (const [name, options, nullable] of cases) {
    it(name, () => {
      const error = thrown(() => createClient({ connect: 'unix:/nonexistent.sock', ...options }));
      expect(error).toMatchObject({ code: 'INVALID_OPTION' });
      const message = (error as Error).message;
      expect(message).toContain(`createClient: option ${name}: expected`);
      expect(message).toContain(String(MAX_TIMER_MS));
      if (nullable) expect(message).toMatch(/null/);
    });
  }
});

it('checkout and call timeouts above the max are refused; the max itself does not fire early', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
  await expect(client.checkout({ timeout: TOO_LONG })).rejects.toMatchObject({
    code: 'INVALID_OPTION',
    message: expect.stringContaining(String(MAX_TIMER_MS)),
  });
  await using co = await client.checkout({ timeout: MAX_TIMER_MS });
  expect(await co.sleep(300)).toBe(300);
  await expect(co.call('sleep', [300], { timeout: TOO_LONG })).rejects.toMatchObject({
    code: 'INVALID_OPTION',
  });
  expect(await co.call('sleep', [300], { timeout: MAX_TIMER_MS })).toBe(300);
  expect(await co.echo('still usable')).toBe('still usable');
});

it('timerDelay clamps to the max, never to 1 ms', () => {
  expect(timerDelay(MAX_TIMER_MS)).toBe(MAX_TIMER_MS);
  expect(timerDelay(2 ** 31)).toBe(MAX_TIMER_MS);
  expect(timerDelay(2 ** 40)).toBe(MAX_TIMER_MS);
  expect(timerDelay(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_MS);
  expect(timerDelay(0)).toBe(1);
  expect(timerDelay(-5)).toBe(1);
  expect(timerDelay(Number.NaN)).toBe(1);
  expect(timerDelay(250)).toBe(250);
});

it('@taskpool/redis refuses queue and submit timeouts above the max', async () => {
  const redis = { host: '127.0.0.1', port: 1, lazyConnect: true };
  const error = thrown(() => createQueue({ redis, name: 'q', timeout: TOO_LONG }));
  expect(error).toMatchObject({ code: 'INVALID_OPTION' });
  expect((error as Error).message).toContain(String(MAX_TIMER_MS));
  const queue = createQueue({ redis, name: 'q' });
  try {
    await expect(queue.submit('job', { timeout: TOO_LONG })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining(String(MAX_TIMER_MS)),
    });
    await expect(queue.collect('some-id', { timeout: TOO_LONG })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
    });
  } finally {
    await queue.close({ timeout: 100 });
  }
});
