// timeout-log-defer.t: after a timeout the log is not retained: it can be finished right
// after the error is handled.
import { DeferredLog, errorScope, TimeoutError } from '@taskpool/client';
import { expect, it } from 'vitest';
import { clientOf, serve, warm } from './helpers/harness.js';

it('delivers the timeout, then lets the log finish', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server));
  const events: string[] = [];
  const log = new DeferredLog();
  await errorScope(
    async () => {
      const co = await client.checkout({ timeout: 200, log });
      try {
        await co.sleep(400);
      } catch (error) {
        expect(error).toBeInstanceOf(TimeoutError);
        events.push('caught');
      } finally {
        await co.release();
        log.finish();
        events.push('flushed');
      }
    },
    { name: 'timeout-log-defer' },
  );
  expect(events).toEqual(['caught', 'flushed']);
  expect(log.toJSON().timers?.[0]).toHaveLength(3);
});
