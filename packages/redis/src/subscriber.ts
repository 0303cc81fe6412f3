/**
 * One pub/sub connection per queue, shared by its submitter (outcomes) and its workers
 * (cancellations). After a reconnection it re-subscribes and then tells its listeners, so
 * they can collect whatever was published while it was away.
 *
 * On a Redis Cluster it uses sharded pub/sub (SSUBSCRIBE): every channel of a queue
 * carries the queue's hash tag, so all of them are served by the node that holds the
 * queue's slot. ioredis moves the subscriptions itself when that node changes (a failover)
 * and then says `subscribersReady`, but without waiting for Redis to confirm them. So the
 * subscriber checks that it really receives, by publishing a probe on a channel of its own
 * (subscribed with the others, so in the same SSUBSCRIBE) until the probe arrives; only
 * then are the listeners told, first at the first subscription and after every change.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { backoffDelay } from '@taskpool/protocol/internal';
import { type Connection, closeConnection, isCluster, onReconnect } from './connection.js';
import type { QueueKeys } from './keys.js';
import { sleep } from './time.js';

type Handler = (message: string) => void;

/** How long one probe is waited for before another is sent, in ms. */
const PROBE_WAIT = 1_000;

/** The pause after a probe could not be published: 50 ms, doubling, up to 1 s. */
const PROBE_BACKOFF = { base: 50, cap: 1_000 };

/** The shared subscriber connection. */
export class Subscriber {
  readonly #connection: Connection;
  readonly #sharded: boolean;
  readonly #publish: (channel: string, message: string) => Promise<unknown>;
  readonly #report: (error: unknown) => void;
  readonly #handlers = new Map<string, Set<Handler>>();
  readonly #resubscribed = new Set<() => void>();
  /** The channel of this subscriber's probes (cluster only). */
  readonly #probeChannel: string;
  /** Resolves the probe in flight when its nonce arrives. */
  readonly #probes = new Map<string, () => void>();
  /** Whether the probe channel was subscribed (it goes with the first subscription). */
  #probeSubscribed = false;
  /** Counts the changes of the cluster's subscribers: a probe confirms its own only. */
  #generation = 0;
  /** The latest generation a probe confirmed. */
  #confirmed = -1;
  /** The check running, if one is. */
  #checking: Promise<void> | undefined;
  readonly #closed = new AbortController();

  constructor(
    connection: Connection,
    keys: QueueKeys,
    publish: (channel: string, message: string) => Promise<unknown>,
    report: (error: unknown) => void,
  ) {
    this.#connection = connection;
    this.#sharded = isCluster(connection);
    this.#publish = publish;
    this.#report = report;
    this.#probeChannel = keys.probe(randomUUID());
    const dispatch = (channel: string, message: string) => {
      if (channel === this.#probeChannel) {
        this.#probes.get(message)?.();
        return;
      }
      for (const handler of this.#handlers.get(channel) ?? []) handler(message);
    };
    if (this.#sharded) {
      connection.on('smessage', dispatch);
      // ioredis re-subscribed on the node(s) that serve the slots now: check, then tell.
      connection.on('subscribersReady', () => {
        // Before the first subscription is confirmed there is nothing to check yet (ioredis
        // says it at startup too), and a probe sent then would be missed.
        if (!this.#probeSubscribed || this.#handlers.size === 0) return;
        const generation = ++this.#generation;
        // ioredis says it again and again while a node is down: one check runs at a time,
        // and only the latest change's listener tells, once it is confirmed.
        this.#verify().then(() => {
          if (generation === this.#generation) this.#tellResubscribed();
        }, report);
      });
    } else {
      connection.on('message', dispatch);
      onReconnect(connection, () => {
        const channels = [...this.#handlers.keys()];
        if (channels.length === 0) return;
        connection.subscribe(...channels).then(() => this.#tellResubscribed(), report);
      });
    }
  }

  /**
   * Calls `handler` with every message on `channel`; resolves once Redis confirmed the
   * subscription (on a cluster, once a probe published after it arrived). Returns a
   * function that stops listening.
   */
  async listen(channel: string, handler: Handler): Promise<() => void> {
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
    }
    handlers.add(handler);
    if (this.#sharded) {
      // The probe channel goes with the first subscription, so a probe that arrives proves
      // that the subscriptions ioredis sends again together after a failover are in place.
      const probe = this.#probeSubscribed ? [] : [this.#probeChannel];
      await this.#connection.ssubscribe(...probe, channel);
      this.#probeSubscribed = true;
      await this.#verify();
    } else {
      await this.#connection.subscribe(channel);
    }
    return () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.#handlers.get(channel) === handlers) {
        this.#handlers.delete(channel);
        const unsubscribe = this.#sharded
          ? this.#connection.sunsubscribe(channel)
          : this.#connection.unsubscribe(channel);
        unsubscribe.catch(() => {});
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
    this.#closed.abort();
    this.#handlers.clear();
    this.#resubscribed.clear();
    return closeConnection(this.#connection, ms);
  }

  #tellResubscribed(): void {
    for (const listener of this.#resubscribed) listener();
  }

  /** Resolves once a probe sent after the latest change arrived (at once if one did). */
  #verify(): Promise<void> {
    if (this.#confirmed === this.#generation) return Promise.resolve();
    this.#checking ??= this.#probe().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  /**
   * Publishes probes, each waited for up to PROBE_WAIT, until one sent after the latest
   * change arrives, or closing. Publishing fails while the cluster fails over: it is
   * retried with a growing pause, and only the first failure of a check is reported.
   */
  async #probe(): Promise<void> {
    const closed = this.#closed.signal;
    for (let failures = 0; !closed.aborted; ) {
      const generation = this.#generation;
      const nonce = randomUUID();
      let arrived = false;
      // Ends this attempt's wait: the probe arrived, or the subscriber is closing.
      const attempt = new AbortController();
      const end = () => attempt.abort();
      this.#probes.set(nonce, () => {
        arrived = true;
        end();
      });
      closed.addEventListener('abort', end, { once: true });
      try {
        await this.#publish(this.#probeChannel, nonce);
        await sleep(PROBE_WAIT, attempt.signal);
      } catch (error) {
        if (failures === 0) this.#report(error);
        await sleep(backoffDelay(PROBE_BACKOFF, failures++), attempt.signal);
      } finally {
        this.#probes.delete(nonce);
        closed.removeEventListener('abort', end);
      }
      if (arrived && generation === this.#generation) {
        this.#confirmed = generation;
        return;
      }
    }
  }
}
