// timeout-hung-worker.t: the server's hung-worker watchdog beats the client's deadline.
import { WorkerLostError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

it('reports WORKER_LOST, not a timeout, when the server kills a hung worker', async () => {
  await using server = await serve('scenario-worker.ts', { hungWorkerTimeout: 1_000 });
  await using client = clientOf(server);
  await using co = await client.checkout({ timeout: 2_000 });
  const error = await co.block(3_000).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(WorkerLostError);
  expect((error as Error).message).toMatch(/worker connection suddenly died/);
  expect((error as Error).message).not.toMatch(/timed out after/);
});
