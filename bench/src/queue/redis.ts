/**
 * The Redis the queue bench runs against: REDIS_URL when set, otherwise a private
 * `redis-server` on a free port without persistence (the tests' helper); and for the
 * cluster rows a private Redis Cluster of three masters on loopback (the tests' helper
 * too). Each is started for the run and stopped (and reaped) after it. Also the key sweep
 * that removes what a figure left under its prefix, and the CPU probe, both over every
 * server (one, or the cluster's three). Every wait has a deadline.
 *
 * The client is ioredis, the one both BullMQ and @taskpool/redis use (a dependency of the
 * workspace package @taskpool/redis).
 */
import { Redis } from 'ioredis';
import { startRedisCluster } from '../../../test/helpers/redis-cluster.js';
import { startRedisServer } from '../../../test/helpers/redis-server.js';
import type { RedisNode } from './spec.js';

export interface RedisUnderTest {
  /** What a figure's queue is given: the URL, or the cluster's nodes (its three masters). */
  redis: string | readonly RedisNode[];
  /** `redis-server 7.0.15, private, no persistence` or `REDIS_URL (7.2.4)`. */
  description: string;
  version: string;
  /** Stops the private server or cluster (no-op for REDIS_URL); resolves once reaped. */
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
      redis: server.url,
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
  return { redis: url, version, description: `REDIS_URL (Redis ${version})`, stop: async () => {} };
}

/**
 * A private Redis Cluster: three masters, no replicas, on free ports of 127.0.0.1, each a
 * `redis-server` without persistence, joined with `redis-cli --cluster create`.
 */
export async function openCluster(): Promise<RedisUnderTest> {
  const cluster = await startRedisCluster();
  try {
    const nodes = cluster.nodes.map(({ host, port }) => ({ host, port }));
    const version = await serverVersion(serversOf(nodes)[0] as string);
    const ports = nodes.map(({ port }) => port).join(', ');
    return {
      redis: nodes,
      version,
      description: `a Redis Cluster of 3 masters, redis-server ${version}, private (ports ${ports}, no persistence, no replicas)`,
      stop: () => cluster.close(),
    };
  } catch (error) {
    await cluster.close();
    throw error;
  }
}

/**
 * Deletes every key matching `pattern` on every server (SCAN + UNLINK); returns how many
 * there were. One UNLINK per key: a cluster node refuses one command over keys of
 * different slots.
 */
export async function deleteKeys(servers: readonly string[], pattern: string): Promise<number> {
  let deleted = 0;
  for (const url of servers) {
    deleted += await withConnection(url, async (redis) => {
      let cursor = '0';
      let found = 0;
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
        cursor = next;
        if (keys.length === 0) continue;
        const pipeline = redis.pipeline();
        for (const key of keys) pipeline.unlink(key);
        for (const [error, count] of (await pipeline.exec()) ?? []) {
          if (error) throw error;
          found += Number(count);
        }
      } while (cursor !== '0');
      return found;
    });
  }
  return deleted;
}

/**
 * Reads the CPU time (user + system, in microseconds) of every server, summed, over one
 * connection to each.
 */
export async function openCpuProbe(servers: readonly string[]) {
  const connections = servers.map((url) => {
    const redis = connect(url);
    redis.on('error', () => {});
    return redis;
  });
  const close = () => {
    for (const redis of connections) redis.disconnect();
  };
  try {
    await Promise.all(connections.map((redis) => redis.connect()));
  } catch (error) {
    close();
    throw error;
  }
  const cpuOf = async (redis: Redis): Promise<number> => {
    const info = await redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1]);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
  };
  return {
    async read(): Promise<number> {
      const each = await Promise.all(connections.map(cpuOf));
      return each.reduce((sum, cpu) => sum + cpu, 0);
    },
    close,
  };
}

/** Every server of `redis` (a URL, or a cluster's nodes) as a URL. */
export function serversOf(redis: string | readonly RedisNode[]): string[] {
  return typeof redis === 'string'
    ? [redis]
    : redis.map(({ host, port }) => `redis://${host}:${port}`);
}
