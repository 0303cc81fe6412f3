/**
 * A worker's own connection for blocking pops, which a stopping worker can interrupt with
 * CLIENT UNBLOCK: the pop returns as if it timed out, so nothing it popped is lost.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { closeConnection } from './connection.js';
import type { QueueContext } from './context.js';

/** One worker's blocking connection. */
export class BlockingConnection {
  readonly #connection: Redis;
  readonly #commands: Redis;
  #clientId: number | undefined;

  constructor(context: QueueContext, purpose: string) {
    this.#commands = context.commands;
    this.#connection = context.open(purpose);
    this.#connection.on('close', () => {
      this.#clientId = undefined;
    });
  }

  /**
   * Sends a blocking command built by `command` from its timeout (`ms`, given to Redis in
   * seconds: BLMPOP takes it first, BZPOPMIN last).
   */
  async block(ms: number, command: (seconds: string) => [string, ...(string | number)[]]) {
    this.#clientId ??= Number(await this.#connection.call('CLIENT', 'ID'));
    const [name, ...args] = command((Math.max(ms, 1) / 1000).toFixed(3));
    return this.#connection.call(name, ...args);
  }

  /**
   * Pops up to `max` entries from the right of the first non-empty list, in the order the
   * lists are given (BLMPOP), waiting up to `ms`; an empty array when none came.
   */
  async popFrom(lists: readonly string[], max: number, ms: number): Promise<string[]> {
    const popped = (await this.block(ms, (seconds) => [
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
    if (this.#clientId === undefined || this.#commands.status !== 'ready') return;
    await this.#commands.call('CLIENT', 'UNBLOCK', this.#clientId, 'TIMEOUT');
  }

  /** Closes the connection within `ms`; a pending {@link block} rejects. */
  close(ms: number): Promise<void> {
    return closeConnection(this.#connection, ms);
  }
}
