// setup.t: setup runs once per worker.
import { expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

it('runs setup once: one worker counts 101, then 102', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { maxWorkers: 1 });
  expect(await client.call('increment', [])).toBe(101);
  expect(await client.call('increment', [])).toBe(102);
});
