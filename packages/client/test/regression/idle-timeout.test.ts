// A client that once burst to many workers kept them all for ever, so one bursty client
// could hold a server's maxWorkers. Workers above minWorkers idle longer than idleTimeout
// are closed (counted as retired, not lost); idleTimeout null keeps them.
import { expect, it } from 'vitest';
import { clientOf, eventually, pause, serve, warm } from '../helpers/harness.js';

async function burst(client: ReturnType<typeof clientOf>, count: number): Promise<void> {
  const held = await Promise.all(Array.from({ length: count }, () => client.checkout()));
  await Promise.all(held.map((co) => co.sleep(50)));
  await Promise.all(held.map((co) => co.release()));
}

const connections = (client: ReturnType<typeof clientOf>) => {
  const { idle, busy } = client.stats();
  return idle + busy;
};

it('closes workers above minWorkers once idle longer than idleTimeout', async () => {
  await using server = await serve('scenario-worker.ts', { spares: 4 });
  await using client = await warm(
    clientOf(server, { minWorkers: 1, maxWorkers: 4, idleTimeout: 300 }),
  );
  await burst(client, 4);
  await eventually(() => connections(client) === 1, 10_000, 'back to minWorkers');
  expect(client.stats()).toMatchObject({ lost: 0, retired: 3, connecting: 0 });
  await pause(600); // minWorkers are never closed for idleness
  expect(connections(client)).toBe(1);
  expect(await client.call('echo', ['still served'])).toBe('still served');
});

it('keeps them with idleTimeout null', async () => {
  await using server = await serve('scenario-worker.ts', { spares: 4 });
  await using client = await warm(
    clientOf(server, { minWorkers: 1, maxWorkers: 4, idleTimeout: null }),
  );
  await burst(client, 4);
  await pause(1_000);
  expect(client.stats()).toMatchObject({ idle: 4, lost: 0, retired: 0 });
});
