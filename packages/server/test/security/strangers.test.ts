/**
 * Bounded strangers: connections that say nothing are closed after the handshake timeout,
 * whether they hold a worker or wait for one, while a real client is served; one peer
 * cannot hold more than `maxConnectionsPerPeer`; a full waiting room refuses at once.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { createClient } from '@taskpool/client';
import { formatEndpoint, PROTOCOL_VERSION } from '@taskpool/protocol';
import { encodeFrame, FrameDecoder, parseMessage } from '@taskpool/protocol/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { secured } from '../fixtures/secure-worker.js';
import { secureServer } from './helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A raw TCP connection to `port`, and a promise of the first message and its close. */
function raw(
  port: number,
  open = false,
): { socket: Socket; first: Promise<unknown>; closed: Promise<void> } {
  const socket = netConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  if (open) socket.write(encodeFrame({ type: 'open', protocol: PROTOCOL_VERSION }));
  const decoder = new FrameDecoder();
  const first = new Promise<unknown>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      const [value] = decoder.push(chunk);
      if (value !== undefined) resolve(parseMessage(value));
    });
    socket.once('close', () => resolve(undefined));
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  cleanups.push(async () => socket.destroy());
  return { socket, first, closed };
}

function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
}

describe('strangers', () => {
  it('closes 200 silent connections after handshakeTimeout, and serves a real client meanwhile', async () => {
    const server = secureServer({ maxWorkers: 4, spares: 2, handshakeTimeout: 500 });
    cleanups.push(() => server.close());
    const port = portOf(formatEndpoint(await server.listen()));
    const silent = Array.from({ length: 200 }, () => raw(port));
    // Every one is accepted (and holds a worker, or a place in the room) before the client comes.
    await Promise.all(
      silent.map(
        ({ socket }) => new Promise<void>((resolve) => socket.once('connect', () => resolve())),
      ),
    );
    const real = createClient({
      connect: `tcp://127.0.0.1:${port}`,
      interface: secured,
      minWorkers: 0,
      timeout: 20_000,
    });
    cleanups.push(() => real.close());
    expect(typeof (await real.call('processId', []))).toBe('number');
    await Promise.all(silent.map(({ closed }) => closed));
    const stats = server.stats();
    // The silent ones held workers only until the timeout, then gave them back: no worker
    // was used up, and none beyond maxWorkers was started.
    expect(stats.spawned).toBeLessThanOrEqual(4);
    expect((stats.rejected?.silent ?? 0) + (stats.rejected?.['handshake-timeout'] ?? 0)).toBe(200);
  });

  it('refuses a connection past maxConnectionsPerPeer with SERVER_BUSY', async () => {
    const server = secureServer({ maxWorkers: 4, maxConnectionsPerPeer: 2 });
    cleanups.push(() => server.close());
    const port = portOf(formatEndpoint(await server.listen()));
    const held = [raw(port, true), raw(port, true)];
    for (const { first } of held) expect(await first).toMatchObject({ type: 'hello' });
    const third = raw(port, true);
    expect(await third.first).toMatchObject({
      type: 'error',
      id: 0,
      error: { code: 'SERVER_BUSY', message: expect.stringContaining('maxConnectionsPerPeer 2') },
    });
    expect(server.stats().rejected?.['peer-limit']).toBe(1);
    // One leaves: its place is free again.
    held[0]?.socket.destroy();
    await held[0]?.closed;
    let admitted: unknown;
    for (
      let attempt = 0;
      attempt < 50 && (admitted as { type?: string })?.type !== 'hello';
      attempt++
    ) {
      admitted = await raw(port, true).first;
    }
    expect(admitted).toMatchObject({ type: 'hello' });
  });

  it('refuses a connection at once when maxWaitingConnections wait already', async () => {
    const server = secureServer({ maxWorkers: 1, spares: 1, maxWaitingConnections: 1 });
    cleanups.push(() => server.close());
    const port = portOf(formatEndpoint(await server.listen()));
    const serving = raw(port, true);
    expect(await serving.first).toMatchObject({ type: 'hello' });
    const waiting = raw(port, true);
    await new Promise<void>((resolve) => waiting.socket.once('connect', () => resolve()));
    const refused = raw(port, true);
    expect(await refused.first).toMatchObject({
      type: 'error',
      error: { code: 'SERVER_BUSY', message: expect.stringContaining('maxWaitingConnections 1') },
    });
    expect(server.stats().rejected?.['waiting-full']).toBe(1);
  });
});
