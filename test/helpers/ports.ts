/** Ports for tests: only loopback addresses are ever targets. */
import { createServer } from 'node:net';

/**
 * A free TCP port on 127.0.0.1: bound, then closed, so that it refuses connections until
 * someone listens on it. Another process could take it in between; on a test machine that
 * is rare, and the test then fails loudly.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
