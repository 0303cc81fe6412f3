/**
 * `redisRegistry`: the servers of a service, listed in Redis beside the queues. A server
 * (option `registry`) renews its entry every `interval`; an entry not renewed within `ttl`
 * (its server died, or lost Redis) is left out of every read. A client (option `discover`)
 * reads the list every `interval`.
 *
 * A service named `hasher` under the prefix `taskpool` owns two keys, in one hash slot
 * (its name is the hash tag, as a queue's is): `taskpool:registry:{hasher}:servers`, a
 * hash of id → announcement (JSON), and `taskpool:registry:{hasher}:alive`, a zset of ids
 * scored by when their entry runs out, on the Redis server's clock (so that the servers'
 * and clients' clocks need not agree). They are outside `taskpool:{hasher}:`, so that a
 * queue of the same name (whose `obliterate()` deletes everything under it) leaves them be.
 *
 * @module
 */
import type { RegistryHandle, ServerAnnouncement, ServiceRegistry } from '@taskpool/protocol';
import {
  milliseconds,
  option,
  optionError,
  parseServerAnnouncement,
  required,
  resolveOptions,
} from '@taskpool/protocol/internal';
import { type Connection, closeConnection, openConnection } from './connection.js';
import { keyName, keyPrefix, type RedisInput, redisInput } from './options.js';
import { announceScript } from './scripts/announce-2.js';
import { runScript } from './scripts/script.js';
import { serversScript } from './scripts/servers-2.js';
import { withdrawScript } from './scripts/withdraw-2.js';
import { settlesWithin, sleep } from './time.js';

/** Options of {@link redisRegistry}. */
export interface RedisRegistryOptions {
  /**
   * Where Redis is: a URL, ioredis options, or an ioredis `Redis` or `Cluster` to duplicate
   * (it is never used itself, nor closed). Each `register` and `watch` opens its own
   * connection, and closes it when stopped.
   * @example 'redis://10.0.0.2:6379'
   */
  redis: RedisInput;
  /**
   * The service's name: servers that register under it are found by clients that watch it.
   * It is the hash tag of the registry's keys.
   * @example 'hasher'
   */
  service: string;
  /**
   * The start of the registry's key names.
   * @default 'taskpool'
   * @example 'myapp'
   */
  prefix?: string;
  /**
   * How often (ms) a server renews its entry and a client reads the list again.
   * @default 1000
   * @example 500
   */
  interval?: number;
  /**
   * How long (ms) an entry lives unless renewed: a server that died drops out of the list
   * within it. More than `interval`, so that one late renewal does not drop a live server.
   * @default 3000
   * @example 5_000
   */
  ttl?: number;
}

const WHERE = 'redisRegistry';

/** The most servers one read lists: a bound on what a registry gone wrong costs a client. */
const MOST_SERVERS = 10_000;

const REGISTRY_OPTIONS = {
  redis: required(redisInput),
  service: required(keyName),
  prefix: option(keyPrefix, 'taskpool'),
  interval: option(milliseconds(10, { whole: true }), 1_000),
  ttl: option(milliseconds(20, { whole: true }), 3_000),
};

/** The keys of one service's registry. */
interface RegistryKeys {
  /** The hash of id → announcement (JSON). */
  readonly servers: string;
  /** The zset of live ids, scored by when their entry runs out (ms, Redis's clock). */
  readonly alive: string;
}

/** The keys of service `service` under `prefix`. */
function registryKeys(prefix: string, service: string): RegistryKeys {
  const base = `${prefix}:registry:{${service}}:`;
  return { servers: `${base}servers`, alive: `${base}alive` };
}

/**
 * A registry of the servers of `service`, kept in Redis: give it to servers (`registry`)
 * and to their clients (`discover`). It connects only when used.
 *
 * @example
 * const registry = redisRegistry({ redis: 'redis://10.0.0.2:6379', service: 'hasher' });
 * createServer({ listen: 'tls://0.0.0.0:7000', advertise: 'tls://10.0.0.5:7000', registry, … });
 * createClient({ discover: registry, interface: hasher, tls, auth });
 */
export function redisRegistry(options: RedisRegistryOptions): ServiceRegistry {
  const resolved = resolveOptions(WHERE, REGISTRY_OPTIONS, options);
  if (resolved.ttl <= resolved.interval) {
    throw optionError(WHERE, 'ttl', `more than interval (${resolved.interval})`, resolved.ttl);
  }
  const keys = registryKeys(resolved.prefix, resolved.service);
  const description = `redis service "${resolved.service}"`;
  /**
   * Sends `command` at once and then every interval on a connection of its own, until
   * stopped; what Redis answers goes to `onReply`, failures to `onError`. A command Redis
   * has not answered yet (it is down, and ioredis holds what is sent until it is back) is
   * not sent again, so that an outage does not pile up commands that would all run at once
   * when it ends; past `ttl` its wait is given up and said. `last` is sent once stopped.
   */
  const repeat = <TReply>(
    purpose: string,
    what: string,
    command: (connection: Connection) => Promise<TReply>,
    onReply: (reply: TReply) => void,
    onError: (error: unknown) => void,
    last?: (connection: Connection) => Promise<unknown>,
  ): RegistryHandle => {
    const connection = openConnection(resolved.redis, purpose, () => {
      // Connection errors show as failed commands, which go to onError once per try.
    });
    const stopping = new AbortController();
    /** Tells `onError`; a listener that throws does not stop the renewals. */
    const say = (error: unknown) => {
      try {
        onError(error);
      } catch {
        // Its own problem.
      }
    };
    /** Failures while running; once stopped, nobody is listening any more. */
    const failed = (error: unknown) => {
      if (!stopping.signal.aborted) say(error);
    };
    let unanswered: Promise<unknown> | undefined;
    const once = async () => {
      if (unanswered === undefined) {
        // Async, so that a command that throws (an announce() that fails) rejects instead.
        const sent = (async () => command(connection))();
        unanswered = sent;
        const answered = () => {
          if (unanswered === sent) unanswered = undefined;
        };
        sent.then(answered, answered);
      }
      // Given up at ttl, or at once when stopped (the command may still settle later).
      const settled = new AbortController();
      const gaveUp = sleep(resolved.ttl, AbortSignal.any([stopping.signal, settled.signal]), {
        unref: true,
      }).then(() => {
        throw new Error(`${description}: ${what} got no answer within ${resolved.ttl} ms`);
      });
      gaveUp.catch(() => {});
      try {
        const reply = await Promise.race([unanswered as Promise<TReply>, gaveUp]);
        if (!stopping.signal.aborted) onReply(reply);
      } finally {
        settled.abort();
      }
    };
    const loop = (async () => {
      while (!stopping.signal.aborted) {
        await once().catch(failed);
        await sleep(resolved.interval, stopping.signal, { unref: true });
      }
    })();
    let stopped: Promise<void> | undefined;
    return {
      stop() {
        // Bounded: a Redis that does not answer holds a stop about three intervals at most.
        stopped ??= (async () => {
          stopping.abort();
          await settlesWithin(loop, resolved.interval);
          if (last) await settlesWithin(last(connection).catch(say), resolved.interval);
          await closeConnection(connection, resolved.interval);
        })();
        return stopped;
      },
    };
  };

  return {
    description,
    register(announce, onError) {
      let id: string | undefined;
      return repeat(
        `registry:${resolved.service}`,
        'announce',
        (connection) => {
          const entry = announce();
          id = entry.id;
          return runScript(
            connection,
            announceScript,
            [keys.servers, keys.alive],
            [entry.id, JSON.stringify(entry), resolved.ttl],
          );
        },
        () => {},
        onError,
        (connection) =>
          id === undefined
            ? Promise.resolve()
            : runScript(connection, withdrawScript, [keys.servers, keys.alive], [id]),
      );
    },
    watch(onServers, onError) {
      return repeat(
        `discover:${resolved.service}`,
        'read the servers',
        (connection) =>
          runScript(connection, serversScript, [keys.servers, keys.alive], [MOST_SERVERS]),
        (reply) => onServers(parseServers(reply, description, onError)),
        onError,
      );
    },
  };
}

/** The announcements of a `servers` reply; entries that are not announcements go to `onError`. */
function parseServers(
  reply: unknown,
  description: string,
  onError: (error: unknown) => void,
): ServerAnnouncement[] {
  const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
  const servers: ServerAnnouncement[] = [];
  for (let at = 0; at + 1 < flat.length; at += 2) {
    const id = String(flat[at]);
    let value: unknown;
    try {
      value = JSON.parse(String(flat[at + 1]));
    } catch {
      value = flat[at + 1];
    }
    const parsed = parseServerAnnouncement(value);
    if (typeof parsed === 'string') {
      onError(
        new Error(`${description}: the entry of server ${id} is not an announcement: ${parsed}`),
      );
    } else {
      servers.push(parsed);
    }
  }
  return servers;
}
