// Original bug 2: a worker death was counted twice, so the pool grew past maxWorkers.
import { expect, it } from 'vitest';
import { clientOf, serve } from '../helpers/harness.js';

it('never holds more than maxWorkers workers, however many die', async () => {
  await using server = await serve('scenario-worker.ts', { spares: 3 });
  await using client = clientOf(server, { maxWorkers: 2 });
  for (let i = 0; i < 3; i++) {
    await client.withCheckout(async (co) => {
      await expect(co.exit_after(0)).rejects.toMatchObject({ code: 'WORKER_LOST' });
    });
  }
  expect(client.stats().lost).toBe(3);
  const pids = new Set<unknown>();
  let concurrent = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: 6 }, () =>
      client.withCheckout(async (co) => {
        concurrent++;
        most = Math.max(most, concurrent);
        pids.add(await co.get_pid());
        await co.sleep(50);
        concurrent--;
      }),
    ),
  );
  expect(most).toBeLessThanOrEqual(2);
  expect(pids.size).toBeLessThanOrEqual(2);
  const stats = client.stats();
  expect(stats.idle + stats.busy + stats.connecting).toBeLessThanOrEqual(2);
});
