/**
 * A worker's own connection for blocking pops, which a stopping worker can interrupt with
 * CLIENT UNBLOCK: the pop returns as if it timed out, so nothing it popped is lost.
 *
 * On a Redis Cluster the pop is routed by its keys (all in the queue's slot) to the node
 * that serves them; CLIENT ID is asked of that node's connection and CLIENT UNBLOCK is sent
 * to that same node, since client ids are per server.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { type Connection, closeConnection, sameServer, serverFor } from './connection.js';
import type { QueueContext } from './context.js';

/** One worker's blocking connection. */
export class BlockingConnection {
  readonly #connection: Connection;
  readonly #commands: Connection;
  /** The client id of each server connection, until it closes. */
  readonly #ids = new Map<Redis, number>();
  /** Where the latest blocking command was sent, and as which client. */
  #blocked: { server: Redis; id: number } | undefined;

  constructor(context: QueueContext, purpose: string) {
    this.#commands = context.commands;
    this.#connection = context.open(purpose);
  }

  /**
   * Sends a blocking command on `key` (and keys of its slot) built by `command` from its
   * timeout (`ms`, given to Redis in seconds: BLMPOP takes it first, BZPOPMIN last).
   */
  async block(
    key: string,
    ms: number,
    command: (seconds: string) => [string, ...(string | number)[]],
  ) {
    const server = await serverFor(this.#connection, key);
    if (server) {
      let id = this.#ids.get(server);
      if (id === undefined) {
        id = Number(await server.call('CLIENT', 'ID'));
        this.#ids.set(server, id);
        server.once('close', () => this.#ids.delete(server));
      }
      this.#blocked = { server, id };
    }
    const [name, ...args] = command((Math.max(ms, 1) / 1000).toFixed(3));
    return this.#connection.call(name, ...args);
  }

  /**
   * Pops up to `max` entries from the right of the first non-empty list, in the order the
   * lists are given (BLMPOP), waiting up to `ms`; an empty array when none came.
   */
  async popFrom(lists: readonly string[], max: number, ms: number): Promise<string[]> {
    const popped = (await this.block(lists[0] ?? '', ms, (seconds) => [
      'BLMPOP',
      seconds,
      lists.length,
      ...lists,
      'RIGHT',
      'COUNT',
      max,
    ])) as [string, string[]] | null;
    return popped ? popped[1] : [];
  }

  /** Makes a pending {@link block} return now, as if it timed out. */
  async unblock(): Promise<void> {
    const blocked = this.#blocked;
    if (!blocked || this.#ids.get(blocked.server) !== blocked.id) return;
    if (this.#commands.status !== 'ready') return;
    const target = sameServer(this.#commands, blocked.server);
    await target?.call('CLIENT', 'UNBLOCK', blocked.id, 'TIMEOUT');
  }

  /** Closes the connection within `ms`; a pending {@link block} rejects. */
  close(ms: number): Promise<void> {
    return closeConnection(this.#connection, ms);
  }
}
