// Original bug 5: with a warm pool the calls behind a failure were already on the wire, and
// still ran after the error.
import { expect, it } from 'vitest';
import { clientOf, serve, warm } from '../helpers/harness.js';

it('never runs calls pipelined behind a failure, even on a warm worker', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server, { maxWorkers: 1, dontReforkAfterError: true }));
  await using co = await client.checkout();
  const calls = [co.increment(), co.die(), co.increment(), co.increment()];
  const settled = await Promise.allSettled(calls);
  expect(settled[0]).toEqual({ status: 'fulfilled', value: 101 });
  expect(
    settled.slice(1).map((s) => s.status === 'rejected' && (s.reason as { code: string }).code),
  ).toEqual(['REMOTE_ERROR', 'PRECEDING_CALL_FAILED', 'PRECEDING_CALL_FAILED']);
  expect(await co.increment()).toBe(102); // usable again, and the dropped calls never ran
});
