/** Ports for tests: only loopback addresses are ever targets. */
import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that refuses connections: bound, then closed. Another process
 * could take it in between; on a test machine that is rare, and the test then fails loudly.
 */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
