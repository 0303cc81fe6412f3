// Original bug 4: a pipelined call lost its deadline when the reply before it arrived.
import { expect, it } from 'vitest';
import { clientOf, serve, warm } from '../helpers/harness.js';

it('keeps each pipelined call to its own deadline', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server));
  await using co = await client.checkout({ timeout: 500 });
  const quick = co.sleep(100);
  const slow = co.sleep(1_500);
  const started = Date.now();
  expect(await quick).toBe(100);
  await expect(slow).rejects.toMatchObject({ code: 'TIMEOUT' });
  expect(Date.now() - started).toBeLessThan(1_200);
});
