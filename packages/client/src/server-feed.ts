/**
 * Where a client's servers come from when they are not a fixed list: a feed hands the pool
 * the servers to use each time it learns them anew. A registry's feed (`discover`) keeps
 * the servers that serve this client's interface, with the room each announced; when
 * servers are listed but none serves it, the list says why none can be used.
 *
 * @module
 */
import {
  type Endpoint,
  InterfaceMismatchError,
  parseEndpoint,
  type RegistryHandle,
  type ServerAnnouncement,
  type ServerDiscovery,
} from '@taskpool/protocol';
import type { ServerList, ServerTarget } from './pool.js';

/** A source of the servers' list. */
export interface ServerFeed {
  /** What it is, for messages: `redis service "hasher"`, `dns://hasher:7000`. */
  readonly description: string;
  /** Calls `onList` with each list it learns, until stopped; failures go to `onError`. */
  start(onList: (list: ServerList) => void, onError: (error: unknown) => void): RegistryHandle;
}

/** How many hashes a mismatch message names before it says "…". */
const HASHES_SAID = 3;

/**
 * The feed of a registry's servers for a client built with the interface of hash
 * `interfaceHash` (null: a client without an interface, which takes every server).
 */
export function registryFeed(discovery: ServerDiscovery, interfaceHash: string | null): ServerFeed {
  return {
    description: discovery.description,
    start: (onList, onError) =>
      discovery.watch(
        (servers) => onList(serverList(servers, interfaceHash, discovery.description, onError)),
        onError,
      ),
  };
}

/** The servers of `servers` this client may use, with their room. */
function serverList(
  servers: ServerAnnouncement[],
  interfaceHash: string | null,
  description: string,
  onError: (error: unknown) => void,
): ServerList {
  const targets: ServerTarget[] = [];
  const others: ServerAnnouncement[] = [];
  for (const server of servers) {
    if (interfaceHash !== null && server.interfaceHash !== interfaceHash) {
      others.push(server);
      continue;
    }
    let endpoint: Endpoint;
    try {
      endpoint = parseEndpoint(server.endpoint);
    } catch (error) {
      onError(error);
      continue;
    }
    targets.push({ endpoint, room: server.maxWorkers - server.busy - server.waiting });
  }
  if (targets.length > 0 || others.length === 0) return { targets };
  return { targets, unusable: mismatch(others, interfaceHash as string, description) };
}

/** The error of a client whose interface none of `servers` serves. */
function mismatch(
  servers: ServerAnnouncement[],
  interfaceHash: string,
  description: string,
): InterfaceMismatchError {
  const counts = new Map<string, number>();
  for (const server of servers) {
    const hash = server.interfaceHash ?? 'none';
    counts.set(hash, (counts.get(hash) ?? 0) + 1);
  }
  // Most servers first, then by hash: the same servers give the same message.
  const said = [...counts]
    .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : 1))
    .slice(0, HASHES_SAID)
    .map(([hash, count]) => `${hash} (${count})`)
    .join(', ');
  const more = counts.size > HASHES_SAID ? ', …' : '';
  return new InterfaceMismatchError(
    `no server of ${description} serves interface ${interfaceHash}: ${servers.length} listed, serving ${said}${more}`,
    {
      data: {
        interfaceHash,
        servers: servers.map(({ endpoint, interfaceHash: hash }) => ({
          endpoint,
          interfaceHash: hash,
        })),
      },
    },
  );
}
