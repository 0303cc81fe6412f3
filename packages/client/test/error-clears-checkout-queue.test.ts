// error-clears-checkout-queue.t: calls queued behind a failure never run, and the scope's
// catch runs exactly once.
import { errorScope, PrecedingCallFailedError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

it('rejects calls behind a failed one without running them; the catch runs once', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { minWorkers: 0 });
  const ran: string[] = [];
  const caught: unknown[] = [];
  let later: Promise<unknown>[] = [];
  await errorScope(
    async () => {
      const co = await client.checkout();
      void co.success().then(() => ran.push('first'));
      void co.success().then(() => ran.push('second'));
      void co.die();
      later = [co.increment(), co.increment()];
      for (const call of later)
        void call.then(
          () => ran.push('after'),
          () => {},
        );
      await co.release();
    },
    { catch: (error) => caught.push(error) },
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(ran).toEqual(['first', 'second']);
  expect(caught).toHaveLength(1);
  expect((caught[0] as Error).message).toBe('died on purpose');
  for (const call of later) await expect(call).rejects.toBeInstanceOf(PrecedingCallFailedError);
});
