/**
 * The Redis the queue bench runs against: REDIS_URL when set, otherwise a private
 * `redis-server` on a free port without persistence, started for the run and stopped
 * (and reaped) after it. Also the key sweep that removes what a figure left under its
 * prefix. Every wait has a deadline.
 *
 * The client is ioredis, the one both BullMQ and @taskpool/redis use (a dependency of the
 * workspace package @taskpool/redis).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export interface RedisUnderTest {
  url: string;
  /** `redis-server 7.0.15, private, no persistence` or `REDIS_URL (7.2.4)`. */
  description: string;
  version: string;
  /** Stops the private server (no-op for REDIS_URL); resolves once it is reaped. */
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === 'object' && address) resolve(address.port);
        else reject(new Error('no free port'));
      });
    });
  });
}

/** A short-lived connection that gives up quickly instead of retrying for ever. */
function connect(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    commandTimeout: 10_000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
}

async function withConnection<T>(url: string, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = connect(url);
  redis.on('error', () => {}); // the awaited command reports it
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

async function serverVersion(url: string): Promise<string> {
  const info = await withConnection(url, (redis) => redis.info('server'));
  return /^redis_version:(\S+)/m.exec(info)?.[1] ?? 'unknown';
}

function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function startPrivate(): Promise<RedisUnderTest> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'taskpool-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
  started.add(child);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    if (!(await exited(child, 5_000))) {
      child.kill('SIGKILL');
      await exited(child, 2_000);
    }
    started.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (spawnError || child.exitCode !== null) {
      await stop();
      throw new Error(
        `redis-server did not start: ${spawnError?.message ?? `exit code ${child.exitCode}`}`,
      );
    }
    try {
      const version = await serverVersion(url);
      return {
        url,
        version,
        description: `redis-server ${version}, private (port ${port}, no persistence)`,
        stop,
      };
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server on port ${port} not answering within 10 s: ${error}`);
      }
      await sleep(50);
    }
  }
}

/** REDIS_URL when set, else a private server. */
export async function openRedis(): Promise<RedisUnderTest> {
  const url = process.env.REDIS_URL;
  if (!url) return startPrivate();
  const version = await serverVersion(url);
  return { url, version, description: `REDIS_URL (Redis ${version})`, stop: async () => {} };
}

/** Deletes every key matching `pattern` (SCAN + UNLINK); returns how many there were. */
export function deleteKeys(url: string, pattern: string): Promise<number> {
  return withConnection(url, async (redis) => {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  });
}

/** Reads redis-server's CPU time (user + system, in microseconds) over one connection. */
export async function openCpuProbe(url: string) {
  const redis = connect(url);
  redis.on('error', () => {});
  await redis.connect();
  return {
    async read(): Promise<number> {
      const info = await redis.info('cpu');
      const field = (name: string) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1]);
      return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
    },
    close: () => redis.disconnect(),
  };
}
