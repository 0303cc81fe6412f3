/**
 * What the private redis-server and Redis Cluster helpers share: starting one redis-server
 * process on loopback and waiting until it answers, waiting for a condition, and reaping.
 * Every process started here is killed when the test process exits, whatever happened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';

const HOST = '127.0.0.1';

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** True when a server answers PING on `port`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: HOST });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * Polls `check` every 50 ms until it is true (a check that rejects is not true yet);
 * throws once `ms` have passed.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once `child` has exited; rejects if it has not within `ms`. */
export function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not exit')), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Starts `redis-server` on `127.0.0.1:port` without persistence, in `dir`, with `args`
 * added, and resolves once it answers PING (within `ms`). Rejects at once when it cannot
 * be started (no redis-server on the PATH), and after reaping it when it does not answer.
 */
export async function startRedisProcess(
  port: number,
  dir: string,
  args: string[],
  ms: number,
): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', ...args],
    { cwd: dir, stdio: 'ignore' },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let failed: Error | undefined;
  child.once('error', (error) => {
    failed = error;
  });
  try {
    await waitUntil(
      async () => failed !== undefined || ping(port),
      ms,
      `redis-server on port ${port} answering`,
    );
    if (failed) throw new Error(`redis-server did not start: ${failed.message}`);
  } catch (error) {
    // Not handed to the caller: reaped here.
    child.kill('SIGKILL');
    await exited(child, 5_000).catch(() => {});
    throw error;
  }
  return child;
}
