// Original bug 7: the server leaked a descriptor per worker and never reaped. Here: neither
// the client nor the server keeps anything after many workers come and go.
import { readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { childrenOf, clientOf, eventually, serve, warm } from '../helpers/harness.js';

const fds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

it('returns to its descriptor and process counts after 100 replaced workers', async () => {
  await using server = await serve('scenario-worker.ts', { spares: 2 });
  await using client = await warm(
    clientOf(server, { minWorkers: 1, maxWorkers: 1, maxCheckouts: 1 }),
  );
  await client.call('get_pid', []);
  await eventually(() => client.stats().idle === 1, 5_000, 'warm');
  const clientBefore = fds(process.pid);
  const serverBefore = fds(server.pid);
  for (let i = 0; i < 100; i++) await client.call('get_pid', []);
  await eventually(() => client.stats().idle === 1, 20_000, 'refilled');
  await eventually(() => fds(process.pid) <= clientBefore, 20_000, 'client descriptors back');
  await eventually(() => fds(server.pid) <= serverBefore, 20_000, 'server descriptors back');
  // A worker that has just exited is a zombie until the server reaps it, a moment later.
  await eventually(
    () => childrenOf(server.pid).every((child) => child.state !== 'Z'),
    20_000,
    'every exited worker reaped',
  );
  expect(client.stats().retired).toBeGreaterThanOrEqual(100);
  // A hundred worker starts take about 15 s on two idle cores: the limit leaves room for a
  // busy machine (every wait inside is for an event, with its own deadline).
}, 90_000);
