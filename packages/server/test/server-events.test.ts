/**
 * What a server reports: worker, connection and restart events on diagnostics_channel,
 * with the reason a worker exited or a connection was refused, and its messages through
 * the `logger` option instead of stderr.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect as netConnect } from 'node:net';
import { formatEndpoint } from '@taskpool/protocol';
import { CHANNELS } from '@taskpool/server';
import { afterEach, describe, expect, it } from 'vitest';
import { builtServer, eventually, fixture } from './helpers/processes.js';
import { RawClient } from './helpers/raw-client.js';

type Event = { channel: string } & Record<string, unknown>;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Every server event published from now on, in order. */
function record(): Event[] {
  const events: Event[] = [];
  for (const name of Object.values(CHANNELS)) {
    const listener = (message: unknown) => events.push({ channel: name, ...(message as object) });
    subscribe(name, listener);
    cleanups.push(() => unsubscribe(name, listener));
  }
  return events;
}

/** A logger that keeps what it is told. */
function memoryLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) =>
    lines.push({ level, fields, message });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('server events and logger', () => {
  it('reports workers spawned, ready and exited with why, and a rolling restart', async () => {
    const events = record();
    const { lines, logger } = memoryLogger();
    const server = builtServer.createServer({
      listen: 'tcp://127.0.0.1:0',
      workerModule: fixture('echo-worker.ts'),
      spares: 1,
      maxWorkers: 2,
      hungWorkerTimeout: 300,
      handleSignals: false,
      execArgv: [],
      logger,
    });
    cleanups.push(() => server.close());
    const endpoint = formatEndpoint(await server.listen());
    const of = (channel: string) => events.filter((event) => event.channel === channel);
    await eventually(() => of(CHANNELS.workerReady).length >= 1, 10_000, 'a ready worker');
    const [spawned] = of(CHANNELS.workerSpawned);
    // Spares start while the listener opens: the first may name the port asked for (0).
    expect(spawned).toMatchObject({ workerId: 1, pid: expect.any(Number) });
    expect(of(CHANNELS.workerReady)[0]).toMatchObject({ workerId: 1, ms: expect.any(Number) });

    // A client that leaves: its worker has finished.
    const client = await RawClient.connect(endpoint);
    expect(await client.value('echo', ['x'])).toEqual(['x']);
    await client.close();
    await eventually(
      () => of(CHANNELS.workerExited).some((event) => event.pid === client.hello.pid),
      10_000,
      'the worker exits',
    );
    expect(of(CHANNELS.workerExited).find((event) => event.pid === client.hello.pid)).toMatchObject(
      {
        reason: 'finished',
        code: 0,
      },
    );

    // A worker that blocks its event loop: killed as hung, and said through the logger.
    const hung = await RawClient.connect(endpoint);
    hung.sendCall('block', [5_000]);
    await hung.closed;
    await eventually(
      () => of(CHANNELS.workerExited).some((event) => event.pid === hung.hello.pid),
      10_000,
      'the hung worker is reaped',
    );
    expect(of(CHANNELS.workerExited).find((event) => event.pid === hung.hello.pid)).toMatchObject({
      reason: 'killed-hung',
      signal: 'SIGKILL',
    });
    expect(lines).toContainEqual({
      level: 'warn',
      fields: expect.objectContaining({ pid: hung.hello.pid }),
      // This process's watchdog, or the worker's own hang guard, whichever was first.
      message: expect.stringContaining('hung worker'),
    });

    // A spare killed from outside crashed.
    await eventually(() => server.stats().spares >= 1, 10_000, 'a spare');
    const ready = of(CHANNELS.workerReady);
    const sparePid = ready[ready.length - 1]?.pid as number;
    process.kill(sparePid, 'SIGKILL');
    await eventually(
      () => of(CHANNELS.workerExited).some((event) => event.pid === sparePid),
      10_000,
      'the killed spare is reaped',
    );
    expect(of(CHANNELS.workerExited).find((event) => event.pid === sparePid)).toMatchObject({
      reason: 'crashed',
    });
    expect(lines.some((line) => line.level === 'info' && line.fields.pid === sparePid)).toBe(true);

    // A rolling restart: begun, the old spares exit with reason restart, ended.
    await eventually(() => server.stats().spares >= 1, 10_000, 'a spare again');
    server.restart();
    await eventually(() => of(CHANNELS.restartEnded).length === 1, 10_000, 'the restart ends');
    expect(of(CHANNELS.restartBegun)).toEqual([
      expect.objectContaining({ endpoint, generation: 1 }),
    ]);
    expect(of(CHANNELS.workerExited).some((event) => event.reason === 'restart')).toBe(true);
    expect(lines.map((line) => line.message)).toEqual(
      expect.arrayContaining(['rolling restart begun', 'rolling restart ended']),
    );
  });

  it('reports connections that wait and that are turned away, with the reason', async () => {
    const events = record();
    const server = builtServer.createServer({
      listen: 'tcp://127.0.0.1:0',
      workerModule: fixture('echo-worker.ts'),
      spares: 1,
      maxWorkers: 1,
      maxWaitingConnections: 1,
      handleSignals: false,
      execArgv: [],
    });
    cleanups.push(() => server.close());
    const endpoint = formatEndpoint(await server.listen());
    const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
    // The one worker is a spare before anyone connects: the client below does not wait.
    await eventually(() => server.stats().spares === 1, 10_000, 'a spare');
    const held = await RawClient.connect(endpoint);
    cleanups.push(() => held.close());
    const sockets = [netConnect(port, '127.0.0.1'), netConnect(port, '127.0.0.1')];
    for (const socket of sockets) {
      socket.on('error', () => {});
      cleanups.push(() => socket.destroy());
    }
    await eventually(
      () => events.some((event) => event.channel === CHANNELS.connectionRefused),
      10_000,
      'a refusal',
    );
    expect(events.filter((event) => event.channel === CHANNELS.connectionWaiting)).toEqual([
      expect.objectContaining({ endpoint, waiting: 1 }),
    ]);
    expect(events.find((event) => event.channel === CHANNELS.connectionRefused)).toMatchObject({
      endpoint,
      reason: 'waiting-full',
      address: '127.0.0.1',
    });
  });
});
