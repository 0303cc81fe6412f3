// surge.t: 100 checkouts at once on 5 workers, each answered, nothing run synchronously.
import { expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

it('answers 100 checkouts queued at once on maxWorkers 5', async () => {
  await using server = await serve('scenario-worker.ts', { spares: 5 });
  await using client = clientOf(server, { maxWorkers: 5 });
  let done = 0;
  const all = Array.from({ length: 100 }, (_, i) =>
    client.withCheckout(async (co) => {
      expect(await co.echo(i)).toBe(i);
      done++;
    }),
  );
  expect(done).toBe(0);
  await Promise.all(all);
  expect(done).toBe(100);
  const stats = client.stats();
  expect(stats.idle + stats.connecting + stats.busy).toBeLessThanOrEqual(5);
  expect(stats.lost).toBe(0);
});
