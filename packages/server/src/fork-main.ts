/**
 * The entry of a forked server process: read the options, listen, report back, and close
 * gracefully when the parent says so or goes away. A failure to start is reported in wire
 * form, with its cause, so that the parent rejects with the same code, message and stack.
 *
 * @module
 */
import { formatEndpoint } from '@taskpool/protocol';
import { toWire } from '@taskpool/protocol/internal';
import type { ForkedServerMessage } from './fork-task-server.js';
import type { ServerOptions } from './options.js';
import { createServer } from './server.js';

const raw = process.env.TASKPOOL_FORKED_SERVER;
delete process.env.TASKPOOL_FORKED_SERVER;
let closing = false;

try {
  const options = JSON.parse(raw ?? '{}') as ServerOptions;
  try {
    process.title = `taskpool-server:${options.name ?? 'anonymous'}`;
  } catch {
    // Not every platform lets a process rename itself.
  }
  const server = createServer({ ...options, handleSignals: true });
  const close = (timeout?: number) => {
    if (closing) return;
    closing = true;
    void server.close(timeout === undefined ? {} : { timeout }).then(() => process.exit(0));
  };
  process.on('message', (message: { t: string; timeout?: number }) => {
    if (message.t === 'close') close(message.timeout);
  });
  process.on('disconnect', () => close());
  const endpoint = await server.listen();
  process.send?.({
    t: 'listening',
    endpoint: formatEndpoint(endpoint),
  } satisfies ForkedServerMessage);
} catch (error) {
  // listen() has already stopped and reaped whatever it started: nothing is left to close.
  closing = true;
  const cause = (error as { cause?: unknown } | null)?.cause;
  process.exitCode = 1;
  const failed: ForkedServerMessage = {
    t: 'failed',
    error: toWire(error),
    ...(cause === undefined ? {} : { cause: toWire(cause) }),
  };
  // Disconnects once the report is written: disconnecting at once could drop it.
  if (process.connected && process.send) process.send(failed, () => process.disconnect());
}
