/**
 * The queue's own Redis connections, to one server or to a Redis Cluster. They connect on
 * first use and wait out outages (no per-command retry limit, offline queueing, commands in
 * flight resent after a reconnect); every caller bounds its wait with its own deadline
 * instead.
 *
 * @module
 */
import { type Cluster, Redis, type RedisOptions } from 'ioredis';
import { keySlot } from './key-slot.js';
import type { RedisInput } from './options.js';
import { settlesWithin } from './time.js';

/** One of the queue's connections: to one Redis server, or to a Redis Cluster. */
export type Connection = Redis | Cluster;

/** What a connection is for, beyond what every connection of the queue has. */
export interface ConnectionRole {
  /** Pipeline the commands issued in one tick (the command connection). */
  autoPipelining?: boolean;
  /** It subscribes: on a cluster, with sharded pub/sub (a connection per node serving a channel). */
  subscriber?: boolean;
}

const OURS = {
  lazyConnect: true,
  maxRetriesPerRequest: null,
  enableOfflineQueue: true,
  autoResendUnfulfilledCommands: true,
  enableReadyCheck: true,
} satisfies RedisOptions;

/**
 * How often a cluster subscriber re-reads the cluster's slots, in ms. Nothing else tells
 * it that the node serving its channels changed (a failover): ioredis moves the sharded
 * subscriptions when its slot map changes, and the subscriber then catches up on what it
 * missed. A user's shorter interval is kept.
 */
const SUBSCRIBER_SLOTS_REFRESH = 1_000;

/** True for an ioredis `Cluster` (a `Redis` says `isCluster: false`). */
export function isCluster(value: unknown): value is Cluster {
  return typeof value === 'object' && value !== null && (value as Cluster).isCluster === true;
}

function isClient(input: RedisInput): input is Redis {
  return typeof input === 'object' && typeof (input as Redis).duplicate === 'function';
}

/** Opens a connection named `taskpool:<purpose>`; errors go to `onError`. */
export function openConnection(
  input: RedisInput,
  purpose: string,
  onError: (error: unknown) => void,
  role: ConnectionRole = {},
): Connection {
  const connectionName = `taskpool:${purpose}`;
  let connection: Connection;
  if (isCluster(input)) {
    const { lazyConnect, enableOfflineQueue, enableReadyCheck, ...perNode } = OURS;
    connection = input.duplicate([], {
      lazyConnect,
      enableOfflineQueue,
      enableReadyCheck,
      ...(role.autoPipelining && { enableAutoPipelining: true }),
      // ioredis routes SSUBSCRIBE to the node of the channel's slot only with this set.
      shardedSubscribers: role.subscriber === true,
      ...(role.subscriber && {
        slotsRefreshInterval: Math.min(
          input.options.slotsRefreshInterval ?? SUBSCRIBER_SLOTS_REFRESH,
          SUBSCRIBER_SLOTS_REFRESH,
        ),
      }),
      redisOptions: { ...input.options.redisOptions, ...perNode, connectionName },
    });
  } else {
    const settings: RedisOptions = {
      ...OURS,
      connectionName,
      ...(role.autoPipelining && { enableAutoPipelining: true }),
    };
    if (isClient(input)) connection = input.duplicate(settings);
    else if (typeof input === 'string') connection = new Redis(input, settings);
    else connection = new Redis({ ...input, ...settings });
  }
  connection.on('error', onError);
  return connection;
}

/**
 * Calls `listener` on every reconnection after the first connection (not on the first), and,
 * on a cluster, whenever a node's connection ended (a failover, a node gone): in both cases
 * a command in flight may have run and then been sent again. Returns a function that
 * removes it.
 */
export function onReconnect(connection: Connection, listener: () => void): () => void {
  let connected = connection.status === 'ready';
  const ready = () => {
    if (connected) listener();
    connected = true;
  };
  const nodeGone = () => {
    if (connected) listener();
  };
  connection.on('ready', ready);
  connection.on('-node', nodeGone);
  return () => {
    connection.off('ready', ready);
    connection.off('-node', nodeGone);
  };
}

/**
 * The server connection a command on `key` travels on: `connection` itself, or, on a
 * cluster, its connection to the master that serves the key's slot now (it connects first
 * if it must); undefined when the cluster knows no such master yet.
 */
export async function serverFor(connection: Connection, key: string): Promise<Redis | undefined> {
  if (!isCluster(connection)) return connection;
  const slot = keySlot(key);
  if (connection.slots[slot] === undefined) await connection.ping();
  return serverAt(connection, connection.slots[slot]?.[0]);
}

/** A cluster's connection to the server at `host:port`, if it has one. */
function serverAt(cluster: Cluster, address: string | undefined): Redis | undefined {
  return cluster.nodes('master').find((node) => address === addressOf(node));
}

function addressOf(server: Redis): string {
  return `${server.options.host ?? '127.0.0.1'}:${server.options.port ?? 6379}`;
}

/**
 * The connection of `connection` (a cluster's node connection, or the connection itself)
 * to the same server as `server`, for a command that must reach that very server (CLIENT
 * UNBLOCK).
 */
export function sameServer(connection: Connection, server: Redis): Redis | undefined {
  return isCluster(connection) ? serverAt(connection, addressOf(server)) : connection;
}

/** Every master of `connection`: the connection itself, or each master of the cluster. */
export async function masters(connection: Connection): Promise<Redis[]> {
  if (!isCluster(connection)) return [connection];
  if (connection.status !== 'ready') await connection.ping();
  return connection.nodes('master');
}

/** QUIT within `ms`, then drop the socket(s) whatever happened; never rejects. */
export async function closeConnection(connection: Connection, ms: number): Promise<void> {
  if (connection.status === 'end') return;
  // A cluster sends auto-pipelined commands on the next tick, and its QUIT would otherwise
  // go first and fail them (one server queues them before its QUIT).
  if (isCluster(connection)) await new Promise((resolve) => setImmediate(resolve));
  if (connection.status === 'ready') {
    await settlesWithin(connection.quit(), ms);
  }
  connection.disconnect();
}
