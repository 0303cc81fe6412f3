/**
 * What the parts of one queue share: options, key names, the command connection, the
 * lazily opened subscriber, where background errors go, and the metrics they count into.
 *
 * @module
 */
import { TimeoutError } from '@taskpool/protocol';
import {
  type Connection,
  type ConnectionRole,
  closeConnection,
  isCluster,
  openConnection,
} from './connection.js';
import { type QueueKeys, queueKeys } from './keys.js';
import type { ResolvedQueueOptions } from './options.js';
import { QueueMetrics } from './queue-metrics.js';
import { Subscriber } from './subscriber.js';
import { withDeadline } from './time.js';

/** Shared by a queue's submitter and workers. */
export class QueueContext {
  readonly options: ResolvedQueueOptions;
  readonly keys: QueueKeys;
  /** For scripts and plain commands; never blocks. */
  readonly commands: Connection;
  /**
   * How outcomes, progress and cancellations are published, by scripts too: `SPUBLISH`
   * (sharded pub/sub, Redis 7+) on a cluster, where a plain PUBLISH would be copied to
   * every node, and `PUBLISH` on one server. Every channel of a queue carries the queue's
   * hash tag, so a script's SPUBLISH stays in the slot of its keys.
   */
  readonly publishCommand: 'PUBLISH' | 'SPUBLISH';
  /** What the submitter and workers count into; undefined with `metrics: false`. */
  readonly metrics: QueueMetrics | undefined;
  #subscriber: Subscriber | undefined;

  constructor(options: ResolvedQueueOptions) {
    this.options = options;
    this.keys = queueKeys(options.prefix, options.name);
    this.commands = this.open('commands', { autoPipelining: true });
    this.publishCommand = isCluster(this.commands) ? 'SPUBLISH' : 'PUBLISH';
    this.metrics = options.metrics ? new QueueMetrics() : undefined;
  }

  /** Reports an error nobody is waiting for. */
  readonly report = (error: unknown): void => {
    try {
      this.options.onError(error);
    } catch {
      // A throwing error listener must not break the queue.
    }
  };

  /**
   * `promise`, or a TimeoutError (`<what> timed out after N seconds`) once the queue's
   * `commandTimeout` has passed: what a command that got no answer in time rejects with.
   */
  bounded<T>(what: string, promise: Promise<T>): Promise<T> {
    const ms = this.options.commandTimeout;
    return withDeadline(promise, ms, () => {
      const error = new TimeoutError(ms);
      error.message = `${what} ${error.message}`;
      return error;
    });
  }

  /** Opens a new connection of this queue. */
  open(purpose: string, role?: ConnectionRole): Connection {
    return openConnection(this.options.redis, `${this.options.name}:${purpose}`, this.report, role);
  }

  /** Publishes `message` on `channel` with {@link publishCommand}. */
  publish(channel: string, message: string): Promise<unknown> {
    return this.commands.call(this.publishCommand, channel, message);
  }

  /** The subscriber connection, opened on first use. */
  subscriber(): Subscriber {
    this.#subscriber ??= new Subscriber(
      this.open('subscriber', { subscriber: true }),
      this.keys,
      (channel, message) => this.publish(channel, message),
      this.report,
    );
    return this.#subscriber;
  }

  /** Closes the subscriber (if opened) and the command connection within `ms`. */
  async close(ms: number): Promise<void> {
    await Promise.all([this.#subscriber?.close(ms), closeConnection(this.commands, ms)]);
  }
}
