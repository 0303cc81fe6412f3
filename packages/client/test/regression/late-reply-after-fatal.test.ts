// Original bug 6: throwFatalError did not cancel the work in flight: a late reply still ran
// the success callback, or a second error went nowhere, and the pool was not refilled.
import { expect, it } from 'vitest';
import { clientOf, eventually, pause, serve, warm } from '../helpers/harness.js';

it('discards late replies after throwFatalError and refills the pool', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
  const co = await client.checkout({ timeout: 300 });
  let successes = 0;
  const inFlight = co.sleep(100).then(() => successes++);
  co.throwFatalError('stop');
  await expect(inFlight).rejects.toThrow('stop');
  await pause(500); // past both the reply and the deadline
  expect(successes).toBe(0);
  await co.release();
  await eventually(() => client.stats().idle === 1, 5_000, 'refill');
  expect(client.stats().lost).toBe(1);
  expect(await client.call('echo', ['fresh'])).toBe('fresh');
});
