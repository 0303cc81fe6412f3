/**
 * The queue's own Redis connections. They connect on first use and wait out outages (no
 * per-command retry limit, offline queueing, commands in flight resent after a
 * reconnect); every caller bounds its wait with its own deadline instead.
 *
 * @module
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisInput } from './options.js';
import { settlesWithin } from './time.js';

const OURS: RedisOptions = {
  lazyConnect: true,
  maxRetriesPerRequest: null,
  enableOfflineQueue: true,
  autoResendUnfulfilledCommands: true,
  enableReadyCheck: true,
};

function isClient(input: RedisInput): input is Redis {
  return typeof input === 'object' && typeof (input as Redis).duplicate === 'function';
}

/** Opens a connection named `taskpool:<purpose>`; errors go to `onError`. */
export function openConnection(
  input: RedisInput,
  purpose: string,
  onError: (error: unknown) => void,
  extra: RedisOptions = {},
): Redis {
  const settings: RedisOptions = { ...OURS, connectionName: `taskpool:${purpose}`, ...extra };
  let connection: Redis;
  if (isClient(input)) connection = input.duplicate(settings);
  else if (typeof input === 'string') connection = new Redis(input, settings);
  else connection = new Redis({ ...input, ...settings });
  connection.on('error', onError);
  return connection;
}

/**
 * Calls `listener` on every reconnection after the first connection (not on the first).
 * Returns a function that removes it.
 */
export function onReconnect(connection: Redis, listener: () => void): () => void {
  let connected = connection.status === 'ready';
  const ready = () => {
    if (connected) listener();
    connected = true;
  };
  connection.on('ready', ready);
  return () => connection.off('ready', ready);
}

/** QUIT within `ms`, then drop the socket whatever happened; never rejects. */
export async function closeConnection(connection: Redis, ms: number): Promise<void> {
  if (connection.status === 'end') return;
  if (connection.status === 'ready') {
    await settlesWithin(connection.quit(), ms);
  }
  connection.disconnect();
}
