/**
 * The server's metrics: each worker measures the calls it runs and reports them to its
 * supervisor (every second, and before it exits), which adds them up in stats().metrics.
 */
import { formatEndpoint } from '@taskpool/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { builtServer, eventually, fixture, startServer } from './helpers/processes.js';
import { RawClient } from './helpers/raw-client.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function echoServer(metrics?: boolean) {
  const server = builtServer.createServer({
    listen: 'tcp://127.0.0.1:0',
    workerModule: fixture('echo-worker.ts'),
    spares: 1,
    maxWorkers: 2,
    handleSignals: false,
    execArgv: [],
    ...(metrics === undefined ? {} : { metrics }),
  });
  cleanups.push(() => server.close());
  return server;
}

describe('server metrics', () => {
  it("adds up every worker's calls, by outcome, and their durations", async () => {
    const server = echoServer();
    const endpoint = formatEndpoint(await server.listen());
    const first = await RawClient.connect(endpoint);
    const second = await RawClient.connect(endpoint);
    expect(await first.value('echo', [1])).toEqual([1]);
    expect(await first.value('sleep', [50])).toBe(50);
    expect(await second.value('echo', [2])).toEqual([2]);
    expect(await second.call('throwError', ['boom'])).toMatchObject({
      type: 'error',
      error: { code: 'REMOTE_ERROR' },
    });
    // The first worker reports before it exits; the second within a second.
    await first.close();
    await eventually(
      () => server.stats().metrics?.callDuration.count === 4,
      10_000,
      "both workers' reports",
    );
    const metrics = server.stats().metrics;
    expect(metrics?.calls).toEqual({ ok: 3, REMOTE_ERROR: 1 });
    // The 50 ms sleep is the longest (a timer may fire a little before 50 ms of this clock).
    expect(metrics?.callDuration.max).toBeGreaterThanOrEqual(40);
    expect(metrics?.callDuration.min).toBeGreaterThan(0);
    expect(metrics?.callDuration.p50).toBeLessThanOrEqual(metrics?.callDuration.p99 ?? 0);
    await second.close();
  });

  it("measures connections' waits for a worker and their service, and why workers exited", async () => {
    const server = echoServer();
    const endpoint = formatEndpoint(await server.listen());
    await eventually(() => server.stats().spares === 1, 10_000, 'a spare');
    // The first takes the spare at once; the second (most likely) waits for a worker.
    const first = await RawClient.connect(endpoint);
    const second = await RawClient.connect(endpoint);
    expect(await first.value('echo', [1])).toEqual([1]);
    expect(await second.value('echo', [2])).toEqual([2]);
    expect(server.stats().metrics?.connectionWait.count).toBe(2);
    await first.close();
    await second.close();
    await eventually(
      () => server.stats().metrics?.workersExited.finished === 2,
      10_000,
      'both workers to exit',
    );
    const metrics = server.stats().metrics;
    expect(metrics?.connectionServe.count).toBe(2);
    expect(metrics?.connectionServe.min).toBeGreaterThan(0);
    expect(metrics?.workersExited).toEqual({ finished: 2 });
  });

  it('records nothing with metrics: false', async () => {
    const server = echoServer(false);
    const endpoint = formatEndpoint(await server.listen());
    const client = await RawClient.connect(endpoint);
    cleanups.push(() => client.close());
    expect(await client.value('echo', [1])).toEqual([1]);
    expect(server.stats()).not.toHaveProperty('metrics');
  });
});

describe("a forked server's stats()", () => {
  it('asks the server over its channel, metrics included, and rejects with CLOSED once it has exited', async () => {
    const server = await startServer('echo-worker.ts');
    const client = await RawClient.connect(server.endpoint);
    expect(await client.value('echo', [1])).toEqual([1]);
    await client.close();
    await eventually(
      async () => (await server.stats()).metrics?.calls.ok === 1,
      10_000,
      "the worker's report",
    );
    expect(await server.stats()).toMatchObject({
      spawned: expect.any(Number),
      version: expect.any(String),
    });
    await server.close();
    await expect(server.stats()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
