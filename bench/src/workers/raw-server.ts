/**
 * The raw ceiling's worker: a plain `net` server on a Unix socket answering echo and hash
 * requests, one at a time per process, replies to one read written back in one write.
 * Bundled to .build/raw-server.mjs; usage: node raw-server.mjs SOCKET_PATH
 */
import { createServer } from 'node:net';
import bcrypt from 'bcryptjs';
import { encodeRaw, RawReader, type RawRequest } from '../raw-frames.js';

const path = process.argv[2];
if (!path) throw new Error('usage: raw-server SOCKET_PATH');

function answer(request: RawRequest): Buffer {
  try {
    const { id, method, args } = request;
    if (method === 'echo') return encodeRaw({ id, result: args[0] });
    if (method === 'hash') {
      return encodeRaw({ id, result: bcrypt.hashSync(String(args[0]), String(args[1])) });
    }
    return encodeRaw({ id, error: `unknown method ${method}` });
  } catch (error) {
    return encodeRaw({ id: request.id, error: String(error) });
  }
}

const server = createServer((socket) => {
  const reader = new RawReader();
  socket.on('data', (chunk) => {
    const requests = reader.push(chunk) as RawRequest[];
    if (requests.length === 1 && requests[0]) socket.write(answer(requests[0]));
    else if (requests.length > 1) socket.write(Buffer.concat(requests.map(answer)));
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
