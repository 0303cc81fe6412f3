/**
 * The contract between a server that announces itself, a registry that lists the servers
 * of a service, and a client that discovers them. The registry is pluggable
 * (`redisRegistry` in `@taskpool/redis` is one); the server's `registry` and the client's
 * `discover` options take any object of these shapes.
 *
 * @module
 */

/** One server, as it announces itself and as a client discovers it. */
export interface ServerAnnouncement {
  /** Unique to one run of one server: `host:pid:random`. */
  id: string;
  /** Where clients connect, as `formatEndpoint` writes it: `tcp://10.0.0.5:7000`. */
  endpoint: string;
  /** The server's taskpool version. */
  version: string;
  /** The hash of the interface its workers serve (`describe().hash`); null before one loaded it, or for a plain record of handlers. */
  interfaceHash: string | null;
  /** Its `maxWorkers`: the most connections it serves at once. */
  maxWorkers: number;
  /** Workers started and waiting for a connection. */
  spare: number;
  /** Workers serving a connection. */
  busy: number;
  /** Accepted connections waiting for a worker. */
  waiting: number;
}

/** What stops an announcement or a watch; resolves once it has (a withdrawal included). */
export interface RegistryHandle {
  stop(): Promise<void>;
}

/**
 * Where clients find the servers of one service: a client's `discover` option.
 *
 * @example createClient({ discover: redisRegistry({ redis, service: 'hasher' }), interface: hasher })
 */
export interface ServerDiscovery {
  /** What it is, for messages: `redis service "hasher"`. */
  readonly description: string;
  /**
   * Calls `onServers` with the live servers, soon after it is called and again whenever the
   * list is read anew (every `interval` of `redisRegistry`), until `stop()`. A read that fails goes to
   * `onError`; the last list stands meanwhile.
   */
  watch(
    onServers: (servers: ServerAnnouncement[]) => void,
    onError: (error: unknown) => void,
  ): RegistryHandle;
}

/**
 * A registry servers announce themselves in: a server's `registry` option. It is also a
 * {@link ServerDiscovery}, for clients.
 *
 * @example createServer({ listen: 'tcp://0.0.0.0:7000', registry: redisRegistry({ redis, service: 'hasher' }), … })
 */
export interface ServiceRegistry extends ServerDiscovery {
  /**
   * Lists the server `announce()` describes until `stop()` withdraws it. `announce()` is
   * called once for each renewal sent (every `interval` of `redisRegistry`), so that a
   * caller asked again with no failure in between knows the renewal before succeeded. An
   * entry that is not renewed (its server died) drops out of the list once it runs out
   * (`ttl` of `redisRegistry`). A renewal that fails, or waits past `ttl`, goes to
   * `onError`; the registry keeps trying.
   */
  register(announce: () => ServerAnnouncement, onError: (error: unknown) => void): RegistryHandle;
}

const COUNTS = ['maxWorkers', 'spare', 'busy', 'waiting'] as const;

/**
 * Checks a server announcement read from a registry another program wrote: the
 * announcement, or why it is not one (`expected …, received …`).
 */
export function parseServerAnnouncement(value: unknown): ServerAnnouncement | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected an object, received ${value === null ? 'null' : typeof value}`;
  }
  const entry = value as Record<string, unknown>;
  for (const key of ['id', 'endpoint', 'version'] as const) {
    if (typeof entry[key] !== 'string' || entry[key] === '') {
      return `${key}: expected a non-empty string, received ${JSON.stringify(entry[key])}`;
    }
  }
  if (entry.interfaceHash !== null && typeof entry.interfaceHash !== 'string') {
    return `interfaceHash: expected a string or null, received ${JSON.stringify(entry.interfaceHash)}`;
  }
  for (const key of COUNTS) {
    const count = entry[key];
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      return `${key}: expected an integer >= 0, received ${JSON.stringify(count)}`;
    }
  }
  return {
    id: entry.id as string,
    endpoint: entry.endpoint as string,
    version: entry.version as string,
    interfaceHash: entry.interfaceHash as string | null,
    maxWorkers: entry.maxWorkers as number,
    spare: entry.spare as number,
    busy: entry.busy as number,
    waiting: entry.waiting as number,
  };
}

/** True for an object that can be watched for servers (a registry, or another discovery). */
export function isServerDiscovery(value: unknown): value is ServerDiscovery {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ServerDiscovery).watch === 'function' &&
    typeof (value as ServerDiscovery).description === 'string'
  );
}

/** True for a registry a server can announce itself in. */
export function isServiceRegistry(value: unknown): value is ServiceRegistry {
  return isServerDiscovery(value) && typeof (value as ServiceRegistry).register === 'function';
}
