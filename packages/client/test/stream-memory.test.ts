/**
 * A long stream keeps memory flat on both ends: the credit window bounds what is buffered,
 * and nothing is kept per item once it is read.
 */
import { readFileSync } from 'node:fs';
import { createClient } from '@taskpool/client';
import type { ForkedServer } from '@taskpool/server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { serve } from './helpers/harness.js';
import { feed } from './streams/feed.js';

let server: ForkedServer;

beforeAll(async () => {
  server = await serve('stream-worker.ts');
});

afterAll(async () => {
  await server?.close();
});

/** Resident memory of a process, in bytes, from /proc. */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  return kb * 1024;
}

const ITEMS = 1_000_000;

it(`reads a stream of ${ITEMS.toLocaleString('en')} small items with flat memory on both ends`, async () => {
  await using client = createClient({ connect: server.endpoint, interface: feed });
  await using co = await client.checkout({ timeout: 120_000 });
  const pid = co.pid as number;
  let expected = 1;
  let workerEarly = 0;
  let clientEarly = 0;
  let workerPeak = 0;
  let clientPeak = 0;
  for await (const item of co.count(ITEMS, 1, { highWaterMark: 64 })) {
    if (item !== expected) throw new Error(`item ${expected} came as ${item}`);
    expected++;
    if (item % 100_000 === 0) {
      const worker = rssOf(pid);
      const own = process.memoryUsage().rss;
      if (item === 100_000) {
        workerEarly = worker;
        clientEarly = own;
      }
      workerPeak = Math.max(workerPeak, worker);
      clientPeak = Math.max(clientPeak, own);
    }
  }
  expect(expected - 1).toBe(ITEMS);
  // Measured after the first 100,000 items (warm), against the peak over the rest: a leak
  // of even a few bytes per item would show as megabytes here.
  expect(workerPeak).toBeLessThan(workerEarly * 1.2);
  expect(clientPeak - clientEarly).toBeLessThan(48 * 1024 * 1024);
}, 180_000);
