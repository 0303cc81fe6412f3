/**
 * One pub/sub connection per queue, shared by its submitter (outcomes) and its workers
 * (cancellations). After a reconnection it re-subscribes and then tells its listeners, so
 * they can collect whatever was published while it was away.
 *
 * @module
 */
import type { Redis } from 'ioredis';
import { closeConnection, onReconnect } from './connection.js';

type Handler = (message: string) => void;

/** The shared subscriber connection. */
export class Subscriber {
  readonly #connection: Redis;
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #resubscribed = new Set<() => void>();

  constructor(connection: Redis, report: (error: unknown) => void) {
    this.#connection = connection;
    connection.on('message', (channel: string, message: string) => {
      for (const handler of this.#handlers.get(channel) ?? []) handler(message);
    });
    onReconnect(connection, () => {
      const channels = [...this.#handlers.keys()];
      if (channels.length === 0) return;
      connection.subscribe(...channels).then(() => {
        for (const listener of this.#resubscribed) listener();
      }, report);
    });
  }

  /**
   * Calls `handler` with every message on `channel`; resolves once Redis confirmed the
   * subscription. Returns a function that stops listening.
   */
  async listen(channel: string, handler: Handler): Promise<() => void> {
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
    }
    handlers.add(handler);
    await this.#connection.subscribe(channel);
    return () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.#handlers.get(channel) === handlers) {
        this.#handlers.delete(channel);
        this.#connection.unsubscribe(channel).catch(() => {});
      }
    };
  }

  /** Calls `listener` each time the subscriptions are back after a reconnection. */
  onResubscribed(listener: () => void): () => void {
    this.#resubscribed.add(listener);
    return () => this.#resubscribed.delete(listener);
  }

  /** Closes the connection within `ms`. */
  close(ms: number): Promise<void> {
    this.#handlers.clear();
    this.#resubscribed.clear();
    return closeConnection(this.#connection, ms);
  }
}
