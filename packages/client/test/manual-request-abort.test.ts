// manual-request-abort.t: throwFatalError poisons the checkout at once; later calls get the
// same error; the late reply of the call in flight is discarded.
import { FatalError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, pause, serve } from './helpers/harness.js';

it('rejects the call in flight and every later call with the stored error', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { timeout: 1_000 });
  const co = await client.checkout();
  const inFlight = co.sleep_die();
  co.throwFatalError('manual request abort');
  const error = await inFlight.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(FatalError);
  expect((error as Error).message).toMatch(/manual request abort/);
  expect((error as Error).message).not.toMatch(/timed out after|hung worker/);
  await expect(co.get_pid()).rejects.toBe(error);
  await pause(1_200); // past the call's own end and its deadline: nothing more arrives
  await expect(co.get_pid()).rejects.toBe(error);
  await co.release();
  expect(client.stats().lost).toBe(1);
});
