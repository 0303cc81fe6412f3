// A call past its deadline whose handler honours ctx.signal: the worker's signal aborts at
// the deadline, and its error reply sometimes beat the client's own timer, so the call
// rejected with a non-fatal REMOTE_ERROR instead of TIMEOUT. Whichever side notices
// first, the call must fail with the fatal TIMEOUT and the worker must be dropped.
import { expect, it } from 'vitest';
import { clientOf, serve, warm } from '../helpers/harness.js';

it('always rejects with a fatal TIMEOUT, whichever side notices the deadline first', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
  const codes: unknown[] = [];
  for (let i = 0; i < 30; i++) {
    const co = await client.checkout({ timeout: 20_000 });
    const error = await co
      .call('honours_signal', [], { timeout: 30 })
      .catch((caught: unknown) => caught);
    codes.push((error as { code?: unknown }).code);
    // Fatal: the checkout keeps the error and the worker is gone.
    await expect(co.echo(1)).rejects.toBe(error);
    await co.release();
  }
  expect(codes).toEqual(codes.map(() => 'TIMEOUT'));
  expect(client.stats().lost).toBe(30);
});

it('an error reply with code TIMEOUT takes the same fatal path as the client timer', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
  const co = await client.checkout({ timeout: 60_000 });
  const error = await co.fails_with_code('TIMEOUT').catch((caught: unknown) => caught);
  expect(error).toMatchObject({
    code: 'TIMEOUT',
    fatal: true,
    message: 'timed out after 60 seconds',
  });
  await expect(co.echo(1)).rejects.toBe(error);
  await co.release();
  expect(client.stats().lost).toBe(1);
});
