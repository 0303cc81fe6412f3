// Connections that left the waiting room before a worker was ready (refused after
// connectionTimeout, or gone) left their workers behind as extra spares forever, and the
// room went on counting connections whose clients had already left.
import { connect, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { socketPath } from '../../../../test/helpers/sockets.js';
import { builtServer, eventually, fixture, startServer } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

function serverWithSlowSetup(setupMs: number, options: { connectionTimeout?: number } = {}) {
  return builtServer.createServer({
    listen: `unix:${socketPath(`room-${Date.now()}.sock`)}`,
    workerModule: fixture('slow-setup-worker.ts'),
    spares: 1,
    maxWorkers: 16,
    handleSignals: false,
    execArgv: [],
    env: { ...process.env, TASKPOOL_TEST_SETUP_MS: String(setupMs) },
    ...options,
  });
}

function open(path: string, count: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect(path, () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
}

it('stops the workers started for refused connections: spares return to `spares`', async () => {
  await using server = serverWithSlowSetup(1_000, { connectionTimeout: 50 });
  const endpoint = await server.listen();
  await eventually(() => server.stats().spares === 1, 10_000, 'the first spare');
  const sockets = await open((endpoint as { path: string }).path, 6);
  // One took the spare; five waited past connectionTimeout and were refused. Workers were
  // started for them (how many depends on how fast this machine spawns within 50 ms:
  // `spawned` counts them whenever the check runs, where `starting` is a moment's count).
  await eventually(() => server.stats().spawned >= 3, 10_000, 'workers started for them');
  await eventually(() => server.stats().waitingConnections === 0, 10_000, 'refusals');
  await eventually(
    () => server.stats().starting === 0 && server.stats().spares === 1,
    15_000,
    `spares back to 1 (${JSON.stringify(server.stats())})`,
  );
  for (const socket of sockets) socket.destroy();
});

it('lets a client that goes away leave the waiting room at once', async () => {
  await using server = serverWithSlowSetup(3_000);
  const endpoint = await server.listen();
  await eventually(() => server.stats().spares === 1, 15_000, 'the first spare');
  const sockets = await open((endpoint as { path: string }).path, 4);
  await eventually(() => server.stats().waitingConnections === 3, 10_000, 'three waiting');
  for (const socket of sockets.slice(1)) socket.destroy();
  // The room empties while the three workers started for them are still running setup.
  await eventually(
    () => server.stats().waitingConnections === 0 && server.stats().starting === 3,
    10_000,
    `room empty before the workers are ready (${JSON.stringify(server.stats())})`,
  );
  await eventually(
    () => server.stats().starting === 0 && server.stats().spares === 1,
    20_000,
    `spares back to 1 (${JSON.stringify(server.stats())})`,
  );
  sockets[0]?.destroy();
});

it('hands a worker what its client sent while it waited in the room', async () => {
  await using server = await startServer('echo-worker.ts', { spares: 0 });
  await using client = await RawClient.connect(server.endpoint, { hello: false });
  // Sent before any worker exists: the room reads it, and passes it on with the socket.
  const id = client.sendCall('double', [21]);
  expect(await client.next()).toMatchObject({ type: 'hello' });
  expect(await client.next()).toMatchObject({ type: 'result', id, value: 42 });
});
