// sequential.t: checkouts are served first come first served, and a checkout keeps its
// worker while it has work.
import { expect, it } from 'vitest';
import { clientOf, serve } from './helpers/harness.js';

it('serves A (twice, nested), then B, then C, on one worker in order', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { maxWorkers: 1 });
  const seen: [string, number][] = [];
  let counter = 0;
  const a = client.checkout();
  const b = client.checkout();
  const coA = await a;
  const pidA1 = (await coA.get_pid()) as number;
  seen.push(['A1', counter++]);
  const pidA2 = (await coA.get_pid()) as number;
  seen.push(['A2', counter++]);
  const c = client.checkout();
  await coA.release();
  const coB = await b;
  const pidB = (await coB.get_pid()) as number;
  seen.push(['B', counter++]);
  await coB.release();
  const coC = await c;
  const pidC = (await coC.get_pid()) as number;
  seen.push(['C', counter++]);
  await coC.release();
  expect(seen).toEqual([
    ['A1', 0],
    ['A2', 1],
    ['B', 2],
    ['C', 3],
  ]);
  expect(new Set([pidA1, pidA2, pidB, pidC]).size).toBe(1);
});
