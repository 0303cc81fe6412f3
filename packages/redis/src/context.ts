/**
 * What the parts of one queue share: options, key names, the command connection, the
 * lazily opened subscriber, and where background errors go.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { closeConnection, openConnection } from './connection.js';
import { type QueueKeys, queueKeys } from './keys.js';
import type { ResolvedQueueOptions } from './options.js';
import { Subscriber } from './subscriber.js';

/** Shared by a queue's submitter and workers. */
export class QueueContext {
  readonly options: ResolvedQueueOptions;
  readonly keys: QueueKeys;
  /** For scripts and plain commands; never blocks. */
  readonly commands: Redis;
  #subscriber: Subscriber | undefined;

  constructor(options: ResolvedQueueOptions) {
    this.options = options;
    this.keys = queueKeys(options.prefix, options.name);
    this.commands = this.open('commands', { enableAutoPipelining: true });
  }

  /** Reports an error nobody is waiting for. */
  readonly report = (error: unknown): void => {
    try {
      this.options.onError(error);
    } catch {
      // A throwing error listener must not break the queue.
    }
  };

  /** Opens a new connection of this queue. */
  open(purpose: string, extra?: Parameters<typeof openConnection>[3]): Redis {
    return openConnection(
      this.options.redis,
      `${this.options.name}:${purpose}`,
      this.report,
      extra,
    );
  }

  /** The subscriber connection, opened on first use. */
  subscriber(): Subscriber {
    this.#subscriber ??= new Subscriber(this.open('subscriber'), this.report);
    return this.#subscriber;
  }

  /** Closes the subscriber (if opened) and the command connection within `ms`. */
  async close(ms: number): Promise<void> {
    await Promise.all([this.#subscriber?.close(ms), closeConnection(this.commands, ms)]);
  }
}
