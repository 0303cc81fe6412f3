// timeout-in-progress.t: a call running past its deadline fails with TIMEOUT.
import { TimeoutError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, serve, warm } from './helpers/harness.js';

it('times out a call in progress', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server));
  await using co = await client.checkout({ timeout: 200 });
  const error = await co.sleep(400).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(TimeoutError);
  expect((error as Error).message).toMatch(/timed out after 0.2 seconds/);
  await expect(co.get_pid()).rejects.toBe(error);
});
