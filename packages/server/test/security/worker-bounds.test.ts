/**
 * What a worker and the supervisor give a stranger, past the opening exchange's own
 * checks: no stack on any error reply to an untrusted peer, no more than a ClientHello's
 * worth of buffered bytes while it waits, and a worker released just as a restart began
 * that does not run on uncounted.
 */
import { connect as netConnect } from 'node:net';
import { formatEndpoint, PROTOCOL_VERSION } from '@taskpool/protocol';
import type { ErrorMessage } from '@taskpool/protocol/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { builtServer, eventually, fixture, isAlive, startServer } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An in-process server serving echo-worker on loopback TCP. */
async function echoServer(options: Record<string, unknown> = {}) {
  const server = builtServer.createServer({
    listen: 'tcp://127.0.0.1:0',
    workerModule: fixture('echo-worker.ts'),
    spares: 1,
    handleSignals: false,
    execArgv: [],
    ...options,
  });
  cleanups.push(() => server.close());
  const endpoint = formatEndpoint(await server.listen());
  return { server, endpoint };
}

describe('error replies to an untrusted peer', () => {
  it('carry no stack, whichever path makes them', async () => {
    const { endpoint } = await echoServer();
    const peer = await RawClient.connect(endpoint);
    cleanups.push(() => peer.close());
    expect(peer.hello.interfaceWithheld).toBeUndefined(); // a record interface has no description
    // The handler's error; a call cancelled while queued; a call queued behind a failure.
    const failing = peer.sendCall('throwError', ['boom']);
    const running = peer.sendCall('sleep', [200]);
    const queued = peer.sendCall('echo', ['never'], { failures: 0 });
    peer.send({ type: 'cancel', id: queued });
    const replies = new Map<number, ErrorMessage>();
    while (replies.size < 2) {
      const message = await peer.next();
      if (message.type === 'error') replies.set(message.id, message);
    }
    void running;
    expect(replies.get(failing)?.error).toMatchObject({ code: 'REMOTE_ERROR' });
    expect(replies.get(queued)?.error).toMatchObject({
      code: expect.stringMatching(/CANCELLED|PRECEDING_CALL_FAILED/),
    });
    for (const reply of replies.values()) expect(reply.error.stack).toBeUndefined();
  });
});

describe('a stranger the supervisor turns away', () => {
  it('is told why without a stack', async () => {
    const { server, endpoint } = await echoServer({ maxWorkers: 1, maxWaitingConnections: 0 });
    // The one worker is a spare before anyone connects: no connection waits but the refused.
    await eventually(() => server.stats().spares === 1, 10_000, 'a spare');
    const holder = await RawClient.connect(endpoint);
    cleanups.push(() => holder.close());
    const refused = await RawClient.connect(endpoint, { hello: false });
    cleanups.push(() => refused.close());
    const message = await refused.next();
    expect(message).toMatchObject({ type: 'error', id: 0, error: { code: 'SERVER_BUSY' } });
    expect((message as ErrorMessage).error.stack).toBeUndefined();
  });
});

describe('a stranger waiting for a worker', () => {
  it('is dropped once it sends more than a client would before its worker answers', async () => {
    const { endpoint } = await echoServer({ maxWorkers: 1, connectionTimeout: 60_000 });
    const holder = await RawClient.connect(endpoint);
    cleanups.push(() => holder.close());
    const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
    const stranger = netConnect(port, '127.0.0.1');
    stranger.on('error', () => {});
    cleanups.push(async () => stranger.destroy());
    const closed = new Promise<void>((resolve) => stranger.once('close', () => resolve()));
    stranger.write(Buffer.alloc(100 * 1024, 1));
    // Long before connectionTimeout: the room holds a few KiB of a stranger, not 16 MiB.
    await closed;
  });
});

describe('a supervisor that dies during an opening exchange', () => {
  it('leaves the connection served once the client opens it', async () => {
    const server = await startServer('echo-worker.ts');
    cleanups.push(() => server.close());
    // Hello came, but the client has not sent its open yet: the exchange is under way.
    const client = await RawClient.connect(server.endpoint, { open: false });
    cleanups.push(() => client.close());
    process.kill(server.pid, 'SIGKILL');
    await eventually(() => !isAlive(server.pid), 10_000, 'the supervisor exits');
    client.send({ type: 'open', protocol: PROTOCOL_VERSION });
    expect(await client.value('echo', ['alone'])).toEqual(['alone']);
  });
});

describe('a worker released as a restart begins', () => {
  it('is stopped, not left running uncounted', async () => {
    const { server, endpoint } = await echoServer({ maxWorkers: 2 });
    const stranger = await RawClient.connect(endpoint, { open: false });
    const pid = stranger.hello.pid;
    stranger.socket.destroy();
    // The worker's `released` is on its way while this process is busy: the restart below
    // sees the worker still serving, and asks it to retire.
    const until = Date.now() + 100;
    while (Date.now() < until) {
      // Blocks this process (the supervisor) on purpose.
    }
    server.restart();
    await eventually(() => !isAlive(pid), 10_000, 'the released worker exits');
  });
});
