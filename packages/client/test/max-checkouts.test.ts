// max_checkouts.t: a worker is retired after maxCheckouts checkouts, and a retiring worker
// never unlinks the server's socket.
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { clientOf, pause, serve } from './helpers/harness.js';

it('replaces a worker after maxCheckouts checkouts', async () => {
  await using server = await serve('scenario-worker.ts');
  await using client = clientOf(server, { maxWorkers: 1, maxCheckouts: 2 });
  const pidOf = () => client.withCheckout((co) => co.get_pid());
  const one = await pidOf();
  const two = await pidOf();
  const three = await pidOf();
  expect(two).toBe(one);
  expect(three).not.toBe(one);
  await pause(100);
  expect(existsSync(server.endpoint.slice('unix:'.length))).toBe(true);
  const [four, five] = await Promise.all([pidOf(), pidOf()]);
  expect(typeof four).toBe('number');
  expect(typeof five).toBe('number');
  expect(client.stats().retired).toBeGreaterThanOrEqual(1);
  expect(client.stats().lost).toBe(0);
});

it('refuses maxCheckouts of 0 or less', async () => {
  const { createClient } = await import('@taskpool/client');
  expect(() => createClient({ connect: 'unix:/tmp/none.sock', maxCheckouts: 0 })).toThrow(
    'createClient: option maxCheckouts: expected an integer >= 1, or null for no limit, received 0',
  );
});
