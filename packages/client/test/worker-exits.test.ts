// worker-_exits.t: a worker that exits mid-call poisons its checkout with WORKER_LOST.
import { WorkerLostError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

it('reports the death and keeps the checkout poisoned', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { timeout: 1_000 });
  await using co = await client.checkout();
  const error = await co.exit_after(100).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(WorkerLostError);
  expect((error as Error).message).toMatch(/worker connection suddenly died/);
  expect((error as Error).message).not.toMatch(/timed out after/);
  await expect(co.get_pid()).rejects.toBe(error);
});
