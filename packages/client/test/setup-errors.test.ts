// setup-errors.t: a setup failure reaches the first call, and the failed worker is replaced
// by a fresh one (which starts from the server's state: attempt 1 again).
import { SetupError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { serve, untypedClientOf } from './helpers/harness.js';

it('reports setup exceptions and replaces the worker', async () => {
  await using server = await serve('setup-dies-worker.ts');
  await using client = untypedClientOf(server, { maxWorkers: 1 });
  const first = await client
    .withCheckout((co) => co.call('never'))
    .catch((error: unknown) => error);
  expect(first).toBeInstanceOf(SetupError);
  expect((first as Error).message).toMatch(/setup exception: SETUP EXCEPTION 1/);
  const second = await client
    .withCheckout((co) => co.call('never'))
    .catch((error: unknown) => error);
  expect((second as Error).message).toMatch(/setup exception: SETUP EXCEPTION 1/);
  expect(client.stats().lost).toBeGreaterThanOrEqual(1);
});
