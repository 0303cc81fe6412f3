// Load: 2,000 checkouts queued against maxWorkers 4 are served first come first served,
// none lost, and afterwards workers, sockets and processes are back to their baseline.
import { readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { childrenOf, clientOf, eventually, serve, warm } from './helpers/harness.js';

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

it('serves 2,000 queued checkouts in order on 4 workers, and returns to baseline', async () => {
  await using server = await serve('scenario-worker.ts', { spares: 4 });
  await using client = await warm(clientOf(server, { minWorkers: 4, maxWorkers: 4 }), 4);
  const fdsBefore = fds(process.pid);
  // The steady state: 4 workers serving this client and 4 spares. The spares that replace
  // the ones the client took may still be starting here: wait for them rather than take
  // a moment's count as the baseline.
  const steady = 4 + 4;
  await eventually(() => childrenOf(server.pid).length === steady, 10_000, 'spares replaced');
  const started: number[] = [];
  const results = await Promise.all(
    Array.from({ length: 2_000 }, (_, i) =>
      client.withCheckout(async (co) => {
        started.push(i);
        return co.echo(i);
      }),
    ),
  );
  expect(results).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
  expect(started).toEqual(Array.from({ length: 2_000 }, (_, i) => i));
  const stats = client.stats();
  expect(stats).toMatchObject({ busy: 0, waiting: 0, lost: 0, checkouts: 0, idle: 4 });
  await eventually(() => fds(process.pid) <= fdsBefore, 5_000, 'client descriptors back');
  await eventually(() => childrenOf(server.pid).length === steady, 10_000, 'workers back');
});
