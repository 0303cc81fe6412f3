/**
 * Warms a spare worker's connection path before it is handed a connection: one
 * connection to itself, over a private Unix socket, that carries a frame each way. A
 * fresh process runs every line of socket and framing code for the first time on its one
 * real connection; doing it here, while the spare waits, takes that cost (about a
 * millisecond) off the client's hand-off.
 *
 * @module
 */
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameDecoder, FrameWriter } from '@taskpool/protocol/runtime';

/** Resolves once a frame has gone each way, or after 1 s; never rejects. */
export function warmUpConnectionPath(): Promise<void> {
  const path = join(tmpdir(), `taskpool-warm-${process.pid}.sock`);
  return new Promise<void>((resolve) => {
    const server = createServer((socket) => {
      const decoder = new FrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        if (decoder.push(chunk).length > 0)
          new FrameWriter(socket).send({ type: 'retire', reason: 'warm' });
      });
      socket.on('error', () => socket.destroy());
    });
    const finish = () => {
      clearTimeout(timer);
      server.close();
      rmSync(path, { force: true });
      resolve();
    };
    const timer = setTimeout(finish, 1_000);
    server.on('error', finish);
    server.listen(path, () => {
      const client = connect(path);
      const decoder = new FrameDecoder();
      client.on('connect', () => new FrameWriter(client).send({ type: 'done' }));
      client.on('data', (chunk: Buffer) => {
        if (decoder.push(chunk).length > 0) {
          client.destroy();
          finish();
        }
      });
      client.on('error', finish);
    });
  });
}
