/**
 * The raw ceiling's worker: a plain `net` server on a Unix socket answering echo and hash
 * requests, one at a time per process, replies to one read written back in one write.
 * `items` streams: it writes `args[0]` item frames and then the reply, as fast as the
 * socket takes them.
 * Bundled to .build/raw-server.mjs; usage: node raw-server.mjs SOCKET_PATH
 */
import { createServer, type Socket } from 'node:net';
import bcrypt from 'bcryptjs';
import { smallPayload } from '../payloads.js';
import { encodeRaw, RawReader, type RawRequest } from '../raw-frames.js';

const path = process.argv[2];
if (!path) throw new Error('usage: raw-server SOCKET_PATH');

/** Item frames of a stream per write: as many as taskpool's frame writer puts in one. */
const STREAM_FRAMES_PER_WRITE = 64;
const nothing = Buffer.alloc(0);

/**
 * Writes `{ id, item: smallPayload(i) }` for i in 0..count-1, then `{ id, result: { count } }`,
 * 64 frames to a write, pausing only while the socket's buffer is full (until 'drain'):
 * no credit, no acknowledgement, nothing but the socket's own backpressure.
 */
function stream(socket: Socket, id: number, count: number): void {
  let next = 0;
  const pump = () => {
    while (!socket.destroyed) {
      const end = Math.min(next + STREAM_FRAMES_PER_WRITE, count);
      const frames: Buffer[] = [];
      for (; next < end; next++) frames.push(encodeRaw({ id, item: smallPayload(next) }));
      const last = next === count;
      if (last) frames.push(encodeRaw({ id, result: { count } }));
      const flowing = socket.write(
        frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames),
      );
      if (last) return;
      if (!flowing) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

function answer(request: RawRequest, socket: Socket): Buffer {
  try {
    const { id, method, args } = request;
    if (method === 'echo') return encodeRaw({ id, result: args[0] });
    if (method === 'hash') {
      return encodeRaw({ id, result: bcrypt.hashSync(String(args[0]), String(args[1])) });
    }
    if (method === 'items') {
      stream(socket, id, Number(args[0]));
      return nothing;
    }
    return encodeRaw({ id, error: `unknown method ${method}` });
  } catch (error) {
    return encodeRaw({ id: request.id, error: String(error) });
  }
}

const server = createServer((socket) => {
  const reader = new RawReader();
  const reply = (request: RawRequest) => answer(request, socket);
  socket.on('data', (chunk) => {
    const requests = reader.push(chunk) as RawRequest[];
    if (requests.length === 1 && requests[0]) socket.write(reply(requests[0]));
    else if (requests.length > 1) socket.write(Buffer.concat(requests.map(reply)));
  });
  socket.on('error', () => socket.destroy());
});

server.listen(path, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  server.close(); // unlinks the socket at once; open connections die with the process
  process.exit(0);
});
// Bound to the parent's life: stdin is a pipe from it, and ends when it goes.
process.stdin.on('end', () => process.exit(0)).resume();
