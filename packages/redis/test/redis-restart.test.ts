/**
 * Redis dies mid-run (SIGKILL, no persistence: everything in it is lost) and comes back on
 * the same port. Submitters and workers reconnect by themselves and finish. Recoverable and
 * reliable lose nothing: a submitter queues again, under the same id, any job whose record
 * vanished. Simple mode loses what Redis held; those submitters get a TimeoutError, never a
 * hang.
 */
import { TimeoutError } from '@taskpool/protocol';
import { createQueue, QUEUE_MODES } from '@taskpool/redis';
import { describe, expect, it } from 'vitest';
import { startRedisServer } from '../../../test/helpers/redis-server.js';
import { uniquePrefix } from './helpers/keys.js';
import { delay, eventually } from './helpers/wait.js';

describe.each(QUEUE_MODES)('Redis restarted mid-run in %s mode', (mode) => {
  it('submitters and workers reconnect and finish; record modes lose nothing', async () => {
    const server = await startRedisServer();
    const settings = { redis: server.url, name: 'restart', mode, prefix: uniquePrefix() };
    const submitter = createQueue<number, number>(settings);
    const workers = createQueue<number, number>(settings);
    try {
      let handled = 0;
      workers.process(
        async (job) => {
          handled++;
          await delay(5);
          return job.data * 2;
        },
        { concurrency: 4 },
      );
      const timeout = mode === 'simple' ? 3_000 : 30_000;
      const run = (n: number) =>
        submitter.run(n, { timeout }).then(
          (value) => ({ n, value }),
          (error: unknown) => ({ n, error }),
        );

      const before = Array.from({ length: 100 }, (_, n) => run(n));
      await eventually(() => handled >= 10, 10_000, 'jobs under way');
      await server.kill();
      const during = Array.from({ length: 50 }, (_, n) => run(100 + n));
      await delay(300);
      await server.start();
      const after = Array.from({ length: 50 }, (_, n) => run(150 + n));

      const outcomes = await Promise.all([...before, ...during, ...after]);
      const right = outcomes.filter((o) => 'value' in o && o.value === o.n * 2);
      const lost = outcomes.filter((o) => 'error' in o);
      if (mode === 'simple') {
        for (const o of lost) expect((o as { error: unknown }).error).toBeInstanceOf(TimeoutError);
        expect(right.length + lost.length).toBe(200);
      } else {
        expect(lost).toEqual([]);
        expect(right).toHaveLength(200);
      }
      // Both sides still work after the restart.
      expect(await submitter.run(21)).toBe(42);
    } finally {
      await submitter.close({ timeout: 2_000 });
      await workers.close({ timeout: 2_000 });
      await server.stop();
    }
  }, 60_000);
});
