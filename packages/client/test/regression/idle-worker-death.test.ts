// Original bug 1: an idle pooled worker that died crashed the client callback and stayed
// pooled, so the next checkout got "worker connection suddenly died".
import { expect, it } from 'vitest';
import { clientOf, eventually, serve, warm } from '../helpers/harness.js';

it('drops a pooled worker that dies while idle, counts it once and refills', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = await warm(clientOf(server, { minWorkers: 1, maxWorkers: 1 }));
  const pid = (await client.call('get_pid', [])) as number;
  process.kill(pid, 'SIGKILL');
  await eventually(() => client.stats().lost === 1, 5_000, 'loss noticed');
  const next = await client.call('get_pid', []);
  expect(next).not.toBe(pid);
  expect(client.stats().lost).toBe(1);
});
