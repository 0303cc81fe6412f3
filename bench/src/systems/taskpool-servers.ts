/**
 * One taskpool client in front of one server or three, for the checkout-servers workload:
 *
 * - `taskpool-1-server`: `createClient({ connect: [ep] })`, one server on 127.0.0.2;
 * - `taskpool-3-servers`: `createClient({ connect: [ep1, ep2, ep3] })`, three servers on
 *   127.0.0.2, 127.0.0.3 and 127.0.0.4.
 *
 * Every server is workers/taskpool-server.mjs on plain TCP with `maxWorkers` = `workers`
 * (and as many spares, so that its workers are up before the client asks), and the client's
 * `minWorkers` = `maxWorkers` = the servers' total, so it holds every worker of every server.
 * Plain TCP for both rows: their ratio is then about the number of servers, not the transport.
 *
 * The list is static, not discovered: servers created with `registry: redisRegistry(...)`
 * need a registry object in the server process, which forkTaskServer refuses (an object
 * cannot reach a forked server), and a Redis. A static list goes through the same picker
 * (packages/client/src/pool.ts #pickEndpoint), which sends each new connection to the
 * server this client has the fewest connections to, where `discover` would use the room
 * the servers announce.
 */
import { childPids, stopChild } from '../proc.js';
import type { Lease, RunningSystem, StartOptions, System } from './system.js';
import { loadClient, type StartedServer, startServer } from './taskpool.js';

/** Loopback addresses only: one per server, so each is a distinct endpoint and peer. */
const serverHosts = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;

/** How long start-up may take until every connection is open (see `settle`). */
const SETTLE_TIMEOUT_MS = 30_000;

/** Starts `count` servers at once; if one fails, stops the others and throws its error. */
async function startServers(options: StartOptions, count: number): Promise<StartedServer[]> {
  const started = await Promise.allSettled(
    serverHosts
      .slice(0, count)
      .map((host) => startServer(options, 'tcp', { host, maxWorkers: options.workers })),
  );
  const servers = started.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map(({ server }) => stopChild(server, 'SIGTERM', 5_000)));
    throw failed.reason;
  }
  return servers;
}

async function startSpread(options: StartOptions, count: number): Promise<RunningSystem> {
  const { createClient } = await loadClient();
  const servers = await startServers(options, count);
  const stopServers = () =>
    Promise.all(servers.map(({ server }) => stopChild(server, 'SIGTERM', 5_000)));
  const total = count * options.workers;
  let client: ReturnType<typeof createClient>;
  try {
    client = createClient({
      connect: servers.map(({ endpoint }) => endpoint),
      minWorkers: total,
      maxWorkers: total,
    });
  } catch (error) {
    await stopServers();
    throw error;
  }

  /** Checkouts served by each worker, by pid: how the checkouts spread over the servers. */
  const served = new Map<number, number>();

  const checkout = async (): Promise<Lease> => {
    const leased = await client.checkout();
    if (typeof leased.pid === 'number') served.set(leased.pid, (served.get(leased.pid) ?? 0) + 1);
    return {
      echo: (value) => leased.call('echo', [value]),
      release: async () => {
        await leased.release();
      },
    };
  };

  /**
   * Waits until the client holds every worker of every server. Each server is then at its
   * `maxWorkers` and starts nothing more during the timed checkouts. The deadline is past the
   * servers' `connectionTimeout` (10 s), in case a server is given more connections than it
   * has workers (the picker counts only this client's connections, and spreads them evenly
   * over servers of equal size): the one too many would wait that long, be refused with
   * `SERVER_BUSY`, and open elsewhere.
   */
  const settle = async (): Promise<void> => {
    const deadline = performance.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const stats = client.stats();
      if (stats.idle >= total && stats.connecting === 0) return;
      if (performance.now() > deadline) {
        throw new Error(
          `the client did not open its ${total} connections in ${SETTLE_TIMEOUT_MS / 1_000} s: ${JSON.stringify(stats)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  /** The servers' workers, each server's by its pid, for `extras`. */
  const workersOf = () => servers.map(({ server }) => new Set(childPids(server.pid ?? -1)));

  return {
    settle,
    echo: async (value) => {
      const lease = await checkout();
      try {
        return await lease.echo(value);
      } finally {
        await lease.release();
      }
    },
    hash: () => Promise.reject(new Error('checkout-servers rows run no hashes')),
    checkout,
    extras: () => {
      const perServer = workersOf().map((pids) =>
        [...served].reduce((sum, [pid, checkouts]) => sum + (pids.has(pid) ? checkouts : 0), 0),
      );
      const all = [...served.values()].reduce((sum, checkouts) => sum + checkouts, 0);
      return {
        servers: count,
        serversUsed: perServer.filter((checkouts) => checkouts > 0).length,
        busiestShare: all === 0 ? Number.NaN : (Math.max(...perServer) / all) * 100,
        connectFailures: client.stats().connectFailures,
      };
    },
    workerPids: async () => [...served.keys()],
    close: async () => {
      try {
        await client.close();
      } finally {
        await stopServers();
      }
    },
  };
}

const spread = {
  family: 'taskpool',
  isolation: 'process',
  workloads: ['checkout-servers'],
} as const;

export const taskpoolServersSystems: System[] = [
  {
    ...spread,
    name: 'taskpool-1-server',
    shape:
      "checkout, one call, release; connect: [one server on tcp://127.0.0.2], its maxWorkers = the client's",
    start: (options) => startSpread(options, 1),
  },
  {
    ...spread,
    name: 'taskpool-3-servers',
    shape:
      "checkout, one call, release; connect: [tcp://127.0.0.2, .3, .4], a static list (fewest of this client's connections first, no registry), each server's maxWorkers = workers, the client's = their total",
    start: (options) => startSpread(options, serverHosts.length),
  },
];
