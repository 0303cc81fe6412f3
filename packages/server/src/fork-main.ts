/**
 * The entry of a forked server process: read the options, listen, report back, and close
 * gracefully when the parent says so or goes away.
 *
 * @module
 */
import { formatEndpoint } from '@taskpool/protocol';
import type { ForkedServerMessage } from './fork-task-server.js';
import type { ServerOptions } from './options.js';
import { createServer } from './server.js';

const raw = process.env.TASKPOOL_FORKED_SERVER;
delete process.env.TASKPOOL_FORKED_SERVER;
const report = (message: ForkedServerMessage) => process.send?.(message);

try {
  const options = JSON.parse(raw ?? '{}') as ServerOptions;
  try {
    process.title = `taskpool-server:${options.name ?? 'anonymous'}`;
  } catch {
    // Not every platform lets a process rename itself.
  }
  const server = createServer({ ...options, handleSignals: true });
  let closing = false;
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
  report({ t: 'listening', endpoint: formatEndpoint(endpoint) });
} catch (error) {
  report({ t: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
}
