/**
 * A client's `stats` request: the worker asks its supervisor over IPC and answers with the
 * supervisor's own numbers, on receipt (not behind the calls), or with an error when the
 * supervisor is slow or gone, never leaving the client waiting.
 */
import { readFileSync } from 'node:fs';
import type { Message } from '@taskpool/protocol/internal';
import { describe, expect, it } from 'vitest';
import { socketPath } from '../../../test/helpers/sockets.js';
import { builtServer, eventually, fixture, isAlive, startServer } from './helpers/processes.js';
import { RawClient } from './helpers/raw-client.js';

const version = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

let sockets = 0;

/** A server running in this process (so that its stats() can be read), serving echo-worker. */
function inProcessServer() {
  const path = socketPath(`stats-${++sockets}.sock`);
  return builtServer.createServer({
    listen: `unix:${path}`,
    workerModule: fixture('echo-worker.ts'),
    spares: 1,
    handleSignals: false,
    execArgv: [],
  });
}

/** Messages until one with `type` and `id` comes (others are returned before it). */
async function until(
  client: RawClient,
  type: string,
  id: number,
  timeout = 10_000,
): Promise<Message[]> {
  const seen: Message[] = [];
  for (;;) {
    const message = await client.next(timeout);
    seen.push(message);
    if (message.type === type && (message as { id?: number }).id === id) return seen;
  }
}

describe('a stats request', () => {
  it("is answered with the supervisor's numbers", async () => {
    await using server = inProcessServer();
    const endpoint = await server.listen();
    await using client = await RawClient.connect(`unix:${(endpoint as { path: string }).path}`);
    // The spare taken by this client is replaced: wait until the server is steady.
    await eventually(
      () => server.stats().spares === 1 && server.stats().starting === 0,
      10_000,
      'a new spare',
    );
    client.send({ type: 'stats', id: 7 });
    const reply = await client.next();
    const now = server.stats();
    expect(reply).toMatchObject({ type: 'stats', id: 7 });
    const stats = (reply as Extract<Message, { type: 'stats' }>).stats;
    // The wire form: the supervisor's numbers, its metrics included (the connections' part
    // is the supervisor's own and current; the calls' come from the workers' reports).
    const { uptime, metrics, ...rest } = now;
    expect(stats).toMatchObject(rest);
    expect(stats?.metrics?.connectionWait).toEqual(metrics?.connectionWait);
    expect(stats?.metrics?.workersExited).toEqual(metrics?.workersExited);
    expect(stats).toMatchObject({
      starting: 0,
      spares: 1,
      serving: 1,
      waitingConnections: 0,
      spawned: 2,
      killedHung: 0,
      startFailures: 0,
      consecutiveStartFailures: 0,
      lastStartError: null,
      version,
    });
    expect(stats?.startedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(stats?.uptime).toBeGreaterThan(0);
    expect(stats?.uptime).toBeLessThanOrEqual(uptime as number);
    // The connection goes on serving calls.
    expect(await client.value('echo', [1])).toEqual([1]);
  });

  it('is answered at once while a call runs, and after a handler that blocks returns', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    const sleeping = client.sendCall('sleep', [2_000]);
    client.send({ type: 'stats', id: 100 });
    const first = await client.next(1_500);
    expect(first).toMatchObject({ type: 'stats', id: 100, stats: { serving: 1 } });
    expect(await client.next()).toMatchObject({ type: 'result', id: sleeping, value: 2_000 });

    const blocking = client.sendCall('block', [300]);
    client.send({ type: 'stats', id: 101 });
    const seen = await until(client, 'stats', 101);
    expect(seen.map((message) => message.type)).toEqual(['result', 'stats']);
    expect(seen[0]).toMatchObject({ id: blocking, value: 300 });
  });

  it('gets a TIMEOUT error when the supervisor does not answer in time', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    process.kill(server.pid, 'SIGSTOP');
    try {
      client.send({ type: 'stats', id: 3 });
      const reply = await client.next(10_000);
      expect(reply).toMatchObject({
        type: 'error',
        id: 3,
        error: { code: 'TIMEOUT', name: 'TimeoutError' },
      });
      expect((reply as { error: { message: string } }).error.message).toContain(
        'waiting for the server to answer a stats request',
      );
      expect(reply).not.toHaveProperty('failures');
    } finally {
      process.kill(server.pid, 'SIGCONT');
    }
    // The late answer is dropped; the next request is answered.
    client.send({ type: 'stats', id: 4 });
    expect(await until(client, 'stats', 4)).toHaveLength(1);
    expect(await client.value('echo', ['still here'])).toEqual(['still here']);
  }, 20_000);

  it('gets a CLOSED error at once when the supervisor is gone', async () => {
    const server = await startServer('echo-worker.ts');
    const client = await RawClient.connect(server.endpoint);
    const pid = client.hello.pid;
    process.kill(server.pid, 'SIGKILL');
    await eventually(() => !isAlive(server.pid), 10_000, 'the supervisor exits');
    // The worker serves its client on without a supervisor.
    expect(await client.value('echo', ['alone'])).toEqual(['alone']);
    client.send({ type: 'stats', id: 9 });
    expect(await client.next(2_000)).toMatchObject({
      type: 'error',
      id: 9,
      error: { code: 'CLOSED' },
    });
    await client.close();
    await eventually(() => !isAlive(pid), 10_000, 'the worker exits once its client left');
    await server.close();
  });

  it('carrying stats, from a client, is a protocol error: only a worker answers one', async () => {
    await using server = await startServer('echo-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    const stats = {
      starting: 0,
      spares: 0,
      serving: 0,
      waitingConnections: 0,
      spawned: 0,
      killedHung: 0,
      startFailures: 0,
      consecutiveStartFailures: 0,
      lastStartError: null,
      startedAt: null,
      uptime: null,
      version: null,
    };
    client.send({ type: 'stats', id: 1, stats });
    expect(await client.next()).toMatchObject({
      type: 'error',
      id: 0,
      error: { code: 'PROTOCOL_ERROR', message: 'a client may not send stats replies' },
    });
    await client.closed;
  });
});

describe('server.stats()', () => {
  it('has startedAt, uptime and the version once listening, and null before', async () => {
    await using server = inProcessServer();
    expect(server.stats()).toMatchObject({ startedAt: null, uptime: null, version });
    const before = Date.now();
    await server.listen();
    const stats = server.stats();
    expect(stats.startedAt).toBeGreaterThanOrEqual(before);
    expect(stats.startedAt).toBeLessThanOrEqual(Date.now());
    expect(stats.uptime).toBeGreaterThanOrEqual(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.stats().uptime).toBeGreaterThanOrEqual((stats.uptime as number) + 40);
  });
});
