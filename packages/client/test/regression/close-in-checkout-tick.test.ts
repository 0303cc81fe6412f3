// client.close() in the same tick as client.checkout(), with an idle worker pooled: the
// checkout used to resolve on the connection close() had just destroyed, and its calls
// hung. It must reject with CLOSED, like every checkout close() finds waiting.
import { ClosedError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, serve, warm } from '../helpers/harness.js';

it('a checkout asked for in the tick of close() rejects with CLOSED', async () => {
  await using server = await serve('scenario-worker.ts');
  const client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
  const checkout = client.checkout();
  const closed = client.close({ timeout: 5_000 });
  const outcome = await checkout.then(
    async (co) => {
      // The old behaviour: a checkout on a dead connection. Do not hang on it.
      const call = await Promise.race([
        co.get_pid().then(
          () => 'answered',
          (error: unknown) => error,
        ),
        new Promise((resolve) => setTimeout(() => resolve('hung'), 5_000)),
      ]);
      return { resolved: call };
    },
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(ClosedError);
  await closed;
  expect(client.stats()).toMatchObject({ idle: 0, busy: 0, checkouts: 0 });
});
