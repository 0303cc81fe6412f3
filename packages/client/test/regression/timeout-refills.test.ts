// Original bug 3: a timeout did not refill the pool, so a checkout queued behind it waited
// its whole deadline although the server was healthy.
import { expect, it } from 'vitest';
import { clientOf, serve, warm } from '../helpers/harness.js';

it('serves the next checkout promptly after a timeout', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server, { maxWorkers: 1 }));
  const a = await client.checkout({ timeout: 200 });
  const b = client.checkout({ timeout: 3_000 });
  await expect(a.sleep(1_000)).rejects.toMatchObject({ code: 'TIMEOUT' });
  const started = Date.now();
  await a.release();
  await using co = await b;
  expect(typeof (await co.get_pid())).toBe('number');
  expect(Date.now() - started).toBeLessThan(2_000);
});
