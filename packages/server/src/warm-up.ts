/**
 * Warms a spare worker's connection path before it is handed a connection: one
 * connection to itself, over a private Unix socket, that carries a frame each way. A
 * fresh process runs every line of socket and framing code for the first time on its one
 * real connection; doing it here, while the spare waits, takes that cost (about a
 * millisecond) off the client's hand-off. The socket has no name in any directory: on
 * Linux an abstract Unix socket with a random name, elsewhere a loopback TCP port the
 * system picks, so nothing is left behind; a name taken by someone else only costs the
 * warm-up (a failure here is never fatal).
 *
 * @module
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { FrameDecoder, FrameWriter } from '@taskpool/protocol/internal';

/** Resolves once a frame has gone each way, or after 1 s; never rejects. */
export function warmUpConnectionPath(): Promise<void> {
  return new Promise<void>((resolve) => {
    // Both ends, so that a warm-up cut short by its timer leaves no descriptor open.
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
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
      for (const socket of sockets) socket.destroy();
      resolve();
    };
    const timer = setTimeout(finish, 1_000);
    server.on('error', finish);
    const listening = () => {
      const address = server.address();
      const client =
        typeof address === 'string'
          ? connect(address)
          : connect((address as AddressInfo).port, '127.0.0.1');
      sockets.push(client);
      const decoder = new FrameDecoder();
      client.on('connect', () => new FrameWriter(client).send({ type: 'done' }));
      client.on('data', (chunk: Buffer) => {
        if (decoder.push(chunk).length > 0) {
          client.destroy();
          finish();
        }
      });
      client.on('error', finish);
    };
    if (process.platform === 'linux') {
      server.listen(
        `\0taskpool-warm-${process.pid}-${Math.random().toString(36).slice(2)}`,
        listening,
      );
    } else {
      server.listen(0, '127.0.0.1', listening);
    }
  });
}
