/**
 * Where a server listens, and a client connects, when no endpoint is given: a socket in a
 * directory of this user's own (`$XDG_RUNTIME_DIR/taskpool`, else `taskpool-<uid>` in the
 * temporary directory, as tmux does), never a fixed name in a directory every user can
 * write to, where another user could bind the name first and read what clients send.
 *
 * @module
 */
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** This user's directory for taskpool sockets (the server creates it, mode 0700). */
export function defaultSocketDirectory(): string {
  const runtime = process.env.XDG_RUNTIME_DIR;
  if (runtime && isAbsolute(runtime)) return join(runtime, 'taskpool');
  return join(tmpdir(), `taskpool-${process.getuid?.() ?? 'user'}`);
}

/** The default socket: `taskpool.sock` (or `name`) in {@link defaultSocketDirectory}. */
export function defaultSocketPath(name = 'taskpool.sock'): string {
  return join(defaultSocketDirectory(), name);
}
