/**
 * The Redis the queue bench runs against: REDIS_URL when set, otherwise a private
 * `redis-server` on a free port without persistence (the tests' helper), started for the
 * run and stopped (and reaped) after it. Also the key sweep that removes what a figure left under its
 * prefix. Every wait has a deadline.
 *
 * The client is ioredis, the one both BullMQ and @taskpool/redis use (a dependency of the
 * workspace package @taskpool/redis).
 */
import { Redis } from 'ioredis';
import { startRedisServer } from '../../../test/helpers/redis-server.js';

export interface RedisUnderTest {
  url: string;
  /** `redis-server 7.0.15, private, no persistence` or `REDIS_URL (7.2.4)`. */
  description: string;
  version: string;
  /** Stops the private server (no-op for REDIS_URL); resolves once it is reaped. */
  stop(): Promise<void>;
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

async function startPrivate(): Promise<RedisUnderTest> {
  const server = await startRedisServer();
  try {
    const version = await serverVersion(server.url);
    return {
      url: server.url,
      version,
      description: `redis-server ${version}, private (port ${server.port}, no persistence)`,
      stop: () => server.stop(),
    };
  } catch (error) {
    await server.stop();
    throw error;
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
