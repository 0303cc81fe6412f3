/**
 * Opens the listening socket. A Unix socket is created with the requested mode (no window
 * in which it is more open), and a stale socket file left by a dead server is replaced,
 * while one that a live server answers on is not, and a file that is not a socket is
 * never touched.
 *
 * @module
 */
import { chmodSync, lstatSync, type Stats, unlinkSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { type Endpoint, formatEndpoint } from '@taskpool/protocol';
import { optionError } from '@taskpool/protocol/internal';

function isAnswering(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    const done = (answer: boolean) => {
      probe.destroy();
      resolve(answer);
    };
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
    probe.setTimeout(1_000, () => done(false));
  });
}

/** What is at a path that is not a socket, in words. */
function kindOf(existing: Stats): string {
  if (existing.isFile()) return 'a regular file';
  if (existing.isDirectory()) return 'a directory';
  if (existing.isSymbolicLink()) return 'a symbolic link';
  return 'a file of another kind';
}

/**
 * Opens the listener. `what` names the entry point in errors: `createServer`, or
 * `forkTaskServer` in its child.
 */
export async function openListener(
  endpoint: Endpoint,
  socketMode: number,
  what: string,
): Promise<Server> {
  const server = createServer({ pauseOnConnect: true });
  if (endpoint.kind === 'unix') {
    const existing = lstatSync(endpoint.path, { throwIfNoEntry: false });
    if (existing && !existing.isSocket()) {
      throw optionError(
        what,
        'listen',
        `a free socket path, not ${kindOf(existing)} (it is left as it is: remove it, or listen elsewhere)`,
        formatEndpoint(endpoint),
      );
    }
    if (existing) {
      if (await isAnswering(endpoint.path)) {
        throw optionError(
          what,
          'listen',
          'a free socket path, not one where a server already listens',
          formatEndpoint(endpoint),
        );
      }
      unlinkSync(endpoint.path);
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const listening = () => {
      server.off('error', reject);
      resolve();
    };
    if (endpoint.kind === 'unix') {
      // The umask makes the socket file born with the mode asked for; restored at once.
      const previous = process.umask(~socketMode & 0o777);
      try {
        server.listen(endpoint.path, listening);
      } finally {
        process.umask(previous);
      }
    } else {
      server.listen(endpoint.port, endpoint.host, listening);
    }
  });
  if (endpoint.kind === 'unix') chmodSync(endpoint.path, socketMode);
  return server;
}
