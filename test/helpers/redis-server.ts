/**
 * A private redis-server, for the Redis tests and the queue bench: started on a free port
 * without persistence, killed and restarted on the same port on demand, and always reaped.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { exited, startRedisProcess } from './redis-process.js';

/** A redis-server child process. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILLs the server (a crash: nothing saved). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** Stops it for good. */
  stop(): Promise<void>;
}

/** Starts a private redis-server on a free port. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'taskpool-redis-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = await startRedisProcess(port, dir, [], 10_000);
  };
  const kill = async () => {
    if (!child) return;
    const proc = child;
    child = undefined;
    proc.kill('SIGKILL');
    await exited(proc, 5_000);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** REDIS_URL when set, else a private server; `close()` stops what was started. */
export async function useRedis(): Promise<{ url: string; close(): Promise<void> }> {
  const url = process.env.REDIS_URL;
  if (url) return { url, close: async () => {} };
  const server = await startRedisServer();
  return { url: server.url, close: () => server.stop() };
}
