/**
 * The entry of a forked server process: receive the options (over the IPC channel, never
 * the environment: they may hold TLS keys and auth secrets), listen, report back, and
 * close gracefully when the parent says so or goes away. A failure to start is reported in
 * wire form, with its cause, so that the parent rejects with the same code, message and
 * stack.
 *
 * @module
 */
import { formatEndpoint } from '@taskpool/protocol';
import { toWire } from '@taskpool/protocol/internal';
import type { ForkedServerMessage } from './fork-task-server.js';
import type { ServerOptions } from './options.js';
import { createServerAs, type TaskServer } from './server.js';

let closing = false;
let server: TaskServer | undefined;

/** The options, the parent's first message; a parent gone first leaves nothing to serve. */
const received = await new Promise<ServerOptions>((resolve) => {
  const orphaned = () => process.exit(0);
  process.once('disconnect', orphaned);
  process.once('message', (message: { t: string; options?: ServerOptions }) => {
    // From here a lost parent means a graceful close (below), not an exit.
    process.off('disconnect', orphaned);
    resolve(message.options ?? ({} as ServerOptions));
  });
});

try {
  const options = received;
  try {
    process.title = `taskpool-server:${options.name ?? 'anonymous'}`;
  } catch {
    // Not every platform lets a process rename itself.
  }
  // Its errors name forkTaskServer, the entry point the caller used.
  const started = createServerAs('forkTaskServer', { ...options, handleSignals: true });
  server = started;
  const close = (timeout?: number) => {
    if (closing) return;
    closing = true;
    void started.close(timeout === undefined ? {} : { timeout }).then(() => process.exit(0));
  };
  process.on('message', (message: { t: string; timeout?: number; id?: number }) => {
    if (message.t === 'close') close(message.timeout);
    else if (message.t === 'stats' && process.connected) {
      process.send?.({
        t: 'stats',
        id: message.id as number,
        stats: started.stats(),
      } satisfies ForkedServerMessage);
    }
  });
  process.on('disconnect', () => close());
  const endpoint = await started.listen();
  process.send?.({
    t: 'listening',
    endpoint: formatEndpoint(endpoint),
    metricsUrl: started.metricsUrl,
  } satisfies ForkedServerMessage);
} catch (error) {
  closing = true;
  // A failed listen() has stopped and reaped whatever it started, but a close that came
  // while it started (the SIGTERM of the parent's start timeout) may still be stopping
  // workers: the report waits for it, so that nothing is left running when the parent hears.
  await server?.close().catch(() => {});
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
