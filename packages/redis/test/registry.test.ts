/**
 * Servers that announce themselves in a Redis registry, and a client that discovers them:
 * three real servers on three loopback addresses (127.0.0.2-4), one real Redis; and, when
 * this runs as root where `ip netns` works, the same with each server in a network
 * namespace of its own (a machine of its own, as far as the network goes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@taskpool/client';
import {
  InterfaceMismatchError,
  isTaskpoolError,
  type ServerAnnouncement,
} from '@taskpool/protocol';
import { redisRegistry } from '@taskpool/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import {
  createNamespace,
  type NetworkNamespace,
  namespacesAvailable,
} from '../../../test/helpers/network-namespaces.js';
import { freePort } from '../../../test/helpers/ports.js';
import { childrenOf, eventually, isAlive } from '../../../test/helpers/processes.js';
import { exited as redisExited, startRedisProcess } from '../../../test/helpers/redis-process.js';
import { startRedisServer, useRedis } from '../../../test/helpers/redis-server.js';
import { deleteUnder, keysUnder, uniquePrefix } from './helpers/keys.js';
import { labelled } from './helpers/labelled-interface.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/.built/registered-server.mjs', import.meta.url));

/** Where the servers of a test run, and the Redis they and their clients share. */
interface Placement {
  readonly name: string;
  /** The Redis, for clients (and the test) on this side. */
  readonly redisUrl: string;
  /** The address the server at `at` (0, 1 or 2) listens on. */
  hostOf(at: number): string;
  /** The Redis, as the server at `at` reaches it. */
  redisUrlFrom(at: number): string;
  /** The command line that runs `argv` where the server at `at` runs. */
  command(at: number, argv: string[]): { file: string; args: string[] };
  /** Servers listen, and clients connect, in plaintext beyond loopback (a test network). */
  readonly insecure: boolean;
  close(): Promise<void>;
}

/** Three loopback addresses, and the Redis of the file. */
function onLoopback(url: string): Placement {
  return {
    name: 'on three loopback addresses',
    redisUrl: url,
    hostOf: (at) => `127.0.0.${2 + at}`,
    redisUrlFrom: () => url,
    command: (_at, argv) => ({ file: process.execPath, args: argv }),
    insecure: false,
    close: async () => {},
  };
}

/**
 * Three network namespaces, and a Redis of their own that listens on loopback and on this
 * side of each namespace's link (without a password: only those links reach it).
 */
async function inNamespaces(): Promise<Placement> {
  const namespaces: NetworkNamespace[] = [];
  try {
    for (let i = 0; i < 3; i++) namespaces.push(createNamespace());
  } catch (error) {
    for (const namespace of namespaces) namespace.remove();
    throw error;
  }
  const dir = mkdtempSync(join(tmpdir(), 'taskpool-redis-'));
  const removeAll = () => {
    rmSync(dir, { recursive: true, force: true });
    for (const namespace of namespaces) namespace.remove();
  };
  let port: number;
  let server: ChildProcess;
  try {
    port = await freePort();
    const binds = ['127.0.0.1', ...namespaces.map((namespace) => namespace.hostAddress)];
    server = await startRedisProcess(
      port,
      dir,
      ['--bind', ...binds, '--protected-mode', 'no'],
      10_000,
    );
  } catch (error) {
    removeAll();
    throw error;
  }
  const at = (index: number) => namespaces[index] as NetworkNamespace;
  return {
    name: 'in three network namespaces',
    redisUrl: `redis://127.0.0.1:${port}`,
    hostOf: (index) => at(index).address,
    redisUrlFrom: (index) => `redis://${at(index).hostAddress}:${port}`,
    command: (index, argv) => at(index).command([process.execPath, ...argv]),
    insecure: true,
    async close() {
      server.kill('SIGKILL');
      await redisExited(server, 5_000).catch(() => {});
      removeAll();
    },
  };
}

let redis: { url: string; close(): Promise<void> };
/** Where the servers of the tests now running are. */
let placement: Placement;
let prefix: string;
let serviceCount = 0;
/** Every server started, stopped after each test. */
const running = new Set<RegisteredServer>();

interface RegisteredServer {
  readonly label: string;
  /** Where it listens (`tcp://127.0.0.2:40123`). */
  readonly endpoint: string;
  readonly child: ChildProcess;
  /** What it wrote to stderr so far. */
  stderr(): string;
  /** SIGKILLs the server and its workers at once: the machine it runs on is gone. */
  kill9(): Promise<void>;
  /** SIGTERM: a graceful close. */
  stop(): Promise<void>;
}

interface ServerSpec {
  service: string;
  label: string;
  /** Which of the placement's three addresses: 0, 1 or 2. */
  at: number;
  port?: number;
  maxWorkers: number;
  variant?: string;
  /** The registry's interval and ttl, in ms (its defaults without). */
  interval?: number;
  ttl?: number;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function startRegistered(spec: ServerSpec): Promise<RegisteredServer> {
  const output: Buffer[] = [];
  const { file, args } = placement.command(spec.at, [FIXTURE]);
  // `ip netns exec` runs node in place of itself: the same process, the same IPC channel.
  const child = spawn(file, args, {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: {
      ...process.env,
      TEST_LISTEN: `tcp://${placement.hostOf(spec.at)}:${spec.port ?? 0}`,
      TEST_INSECURE: placement.insecure ? '1' : '',
      TEST_REDIS_URL: placement.redisUrlFrom(spec.at),
      TEST_SERVICE: spec.service,
      TEST_PREFIX: prefix,
      TEST_MAX_WORKERS: String(spec.maxWorkers),
      TEST_LABEL: spec.label,
      TEST_VARIANT: spec.variant ?? 'a',
      TEST_REGISTRY_INTERVAL: String(spec.interval ?? ''),
      TEST_REGISTRY_TTL: String(spec.ttl ?? ''),
    },
  });
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk));
  onTestFailed(() => {
    if (output.length > 0) process.stderr.write(Buffer.concat(output));
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server ${spec.label} did not listen`)),
      20_000,
    );
    child.once('message', (message: { listening: string }) => {
      clearTimeout(timer);
      resolve(message.listening);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server ${spec.label} exited (${code}): ${Buffer.concat(output)}`));
    });
  });
  const server: RegisteredServer = {
    label: spec.label,
    endpoint,
    child,
    stderr: () => Buffer.concat(output).toString(),
    async kill9() {
      const workers = childrenOf(child.pid as number).map(({ pid }) => pid);
      child.kill('SIGKILL');
      for (const pid of workers) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await exited(child);
      await eventually(
        () => workers.every((pid) => !isAlive(pid)),
        10_000,
        `the workers of ${spec.label} to die`,
      );
    },
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    },
  };
  running.add(server);
  return server;
}

/** The servers the registry lists for `service` now. */
async function listed(service: string): Promise<ServerAnnouncement[]> {
  const registry = redisRegistry({ redis: placement.redisUrl, service, prefix });
  return await new Promise<ServerAnnouncement[]>((resolve, reject) => {
    const handle = registry.watch(
      (servers) => {
        void handle.stop().then(() => resolve(servers));
      },
      (error) => {
        void handle.stop().then(() => reject(error));
      },
    );
  });
}

/** Waits until the registry lists exactly the servers `labels` name (by endpoint). */
async function untilListed(service: string, endpoints: string[], what: string): Promise<void> {
  const wanted = [...endpoints].sort().join(' ');
  await eventually(
    async () =>
      (await listed(service))
        .map((server) => server.endpoint)
        .sort()
        .join(' ') === wanted,
    15_000,
    what,
  );
}

/** A client of `service` that finds its servers in the registry, built with `iface`. */
function discovering(
  service: string,
  options: { maxWorkers?: number; timeout?: number } = {},
  iface = labelled(),
) {
  return createClient({
    discover: redisRegistry({ redis: placement.redisUrl, service, prefix }),
    interface: iface,
    minWorkers: 0,
    insecure: placement.insecure,
    ...options,
  });
}

/** Starts servers of `service` and waits until the registry lists them all. */
async function startListed(
  service: string,
  specs: Omit<ServerSpec, 'service'>[],
): Promise<RegisteredServer[]> {
  const servers = await Promise.all(specs.map((spec) => startRegistered({ service, ...spec })));
  await untilListed(
    service,
    servers.map((server) => server.endpoint),
    `${servers.length} servers listed`,
  );
  return servers;
}

function newService(): string {
  return `svc${++serviceCount}`;
}

beforeAll(async () => {
  redis = await useRedis();
  prefix = uniquePrefix();
  placement = onLoopback(redis.url);
});

afterEach(async () => {
  await Promise.all([...running].map((server) => server.stop()));
  running.clear();
});

afterAll(async () => {
  await deleteUnder(redis.url, prefix);
  await redis.close();
});

/** Where the discovery tests run their servers: loopback, and namespaces where possible. */
const placements: [string, () => Promise<Placement>][] = [
  ['on three loopback addresses', async () => onLoopback(redis.url)],
  ...(namespacesAvailable()
    ? [['in three network namespaces', inNamespaces] as [string, () => Promise<Placement>]]
    : []),
];

describe('redisRegistry', () => {
  it('lists a server with what it announces, and withdraws it when the server closes', async () => {
    const service = newService();
    const server = await startRegistered({ service, label: 'a', at: 0, maxWorkers: 3 });
    await untilListed(service, [server.endpoint], 'the server listed');
    const [entry] = await listed(service);
    expect(entry).toMatchObject({
      endpoint: server.endpoint,
      interfaceHash: labelled().describe().hash,
      maxWorkers: 3,
      busy: 0,
      waiting: 0,
    });
    expect(entry?.id).toMatch(/:\d+:[0-9a-f]{8}$/);
    expect(entry?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await keysUnder(redis.url, `${prefix}:registry:{${service}}`)).toEqual([
      `${prefix}:registry:{${service}}:alive`,
      `${prefix}:registry:{${service}}:servers`,
    ]);
    // A graceful close takes it off at once, not after its entry runs out.
    const closedAt = Date.now();
    await server.stop();
    running.delete(server);
    expect(await listed(service)).toEqual([]);
    expect(Date.now() - closedAt).toBeLessThan(30_000);
  });

  it('sends no command while one waits for a Redis that is down: nothing piles up for its return', async () => {
    const own = await startRedisServer();
    try {
      await own.kill();
      const errors: unknown[] = [];
      const listing = redisRegistry({
        redis: own.url,
        service: 'outage',
        prefix,
        interval: 100,
        ttl: 200,
      }).register(
        () => ({
          id: 'h:1:00000000',
          endpoint: 'tcp://127.0.0.2:7000',
          version: '0.1.0',
          interfaceHash: null,
          maxWorkers: 1,
          spare: 1,
          busy: 0,
          waiting: 0,
        }),
        (error) => errors.push(error),
      );
      try {
        // Four seconds without Redis: a dozen renewals were due; each wait past ttl is said.
        await new Promise((resolve) => setTimeout(resolve, 4_000));
        expect(errors.length).toBeGreaterThan(5);
        await own.start();
        const probe = new Redis(own.url);
        try {
          await eventually(
            async () => (await probe.exists(`${prefix}:registry:{outage}:alive`)) === 1,
            10_000,
            'the entry back',
          );
          const stats = await probe.info('commandstats');
          const calls = (name: string) =>
            Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
          // One announce held while Redis was down, and the few sent since it came back
          // (one per 100 ms); a pile would be a dozen at once.
          expect(calls('evalsha') + calls('eval')).toBeLessThan(8);
        } finally {
          probe.disconnect();
        }
      } finally {
        await listing.stop();
      }
    } finally {
      await own.stop();
    }
  });

  it('says each outage of the registry once, a second one too', async () => {
    const own = await startRedisServer();
    placement = onLoopback(own.url);
    try {
      const service = newService();
      const server = await startRegistered({
        service,
        label: 'a',
        at: 0,
        maxWorkers: 1,
        interval: 100,
        ttl: 300,
      });
      const said = () => server.stderr().split('could not renew this server').length - 1;
      const alive = `${prefix}:registry:{${service}}:alive`;
      /** Waits for two renewals (each moves the entry's expiry), Redis being up. */
      const renewedTwice = async (what: string) => {
        const probe = new Redis(own.url);
        try {
          const expiries = new Set<string>();
          await eventually(
            async () => {
              const [, expiry] = await probe.zrange(alive, 0, 0, 'WITHSCORES');
              if (expiry !== undefined) expiries.add(expiry);
              return expiries.size >= 3;
            },
            20_000,
            what,
          );
        } finally {
          probe.disconnect();
        }
      };
      for (const outage of [1, 2]) {
        await renewedTwice(`renewed before outage ${outage}`);
        await own.kill();
        await eventually(() => said() === outage, 20_000, `outage ${outage} said`);
        await own.start();
      }
      await renewedTwice('renewed after the outages');
      expect(said()).toBe(2);
    } finally {
      placement = onLoopback(redis.url);
      await Promise.all([...running].map((server) => server.stop()));
      running.clear();
      await own.stop();
    }
  });

  it('refuses bad options, naming them', () => {
    expect(() => redisRegistry({ redis: redis.url, service: 'a{b}' })).toThrow(
      /redisRegistry: option service: expected a string of 1 to 200 letters/,
    );
    expect(() =>
      redisRegistry({ redis: redis.url, service: 's', interval: 1_000, ttl: 500 }),
    ).toThrow('redisRegistry: option ttl: expected more than interval (1000), received 500');
  });
});

describe.each(placements)('a client that discovers servers %s', (_where, place) => {
  beforeAll(async () => {
    placement = await place();
  });
  afterAll(async () => {
    await placement.close();
    placement = onLoopback(redis.url);
  });

  it('spreads 300 checkouts over three servers in proportion to their capacity', async () => {
    const service = newService();
    await startListed(service, [
      { label: 'small', at: 0, maxWorkers: 2 },
      { label: 'medium', at: 1, maxWorkers: 4 },
      { label: 'large', at: 2, maxWorkers: 6 },
    ]);
    await using client = discovering(service, { maxWorkers: 12, timeout: 20_000 });
    const served = new Map<string, number>();
    let next = 0;
    const lane = async () => {
      while (next < 300) {
        next++;
        await using co = await client.checkout();
        const { label } = await co.whoami();
        await co.sleep(2);
        served.set(label, (served.get(label) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: 12 }, lane));
    const total = [...served.values()].reduce((sum, count) => sum + count, 0);
    expect(total).toBe(300);
    // Shares of 2/12, 4/12 and 6/12; a uniform spread would give the small one twice its share.
    for (const [label, capacity] of [
      ['small', 2],
      ['medium', 4],
      ['large', 6],
    ] as const) {
      const share = (served.get(label) ?? 0) / total / (capacity / 12);
      expect(share, `${label}: ${JSON.stringify([...served])}`).toBeGreaterThan(0.4);
      expect(share, `${label}: ${JSON.stringify([...served])}`).toBeLessThan(1.6);
    }
    expect(served.get('large') ?? 0).toBeGreaterThan(served.get('small') ?? 0);
  });

  it('survives a server killed with SIGKILL, and uses it again once it is back', async () => {
    const service = newService();
    const [victim, ...others] = await startListed(service, [
      { label: 'victim', at: 0, maxWorkers: 2 },
      { label: 'b', at: 1, maxWorkers: 2 },
      { label: 'c', at: 2, maxWorkers: 2 },
    ]);
    await using client = discovering(service, { maxWorkers: 6, timeout: 15_000 });
    // Hold all six workers: two on each server.
    const held = await Promise.all(Array.from({ length: 6 }, () => client.checkout()));
    const labels = await Promise.all(held.map(async (co) => (await co.whoami()).label));
    expect(new Set(labels)).toEqual(new Set(['victim', 'b', 'c']));
    const onVictim = held.filter((_, at) => labels[at] === 'victim');
    const inFlight = onVictim.map((co) =>
      co.sleep(60_000).then(
        () => 'answered',
        (error: unknown) => (isTaskpoolError(error) ? error.code : String(error)),
      ),
    );
    await (victim as RegisteredServer).kill9();
    running.delete(victim as RegisteredServer);
    expect(await Promise.all(inFlight)).toEqual(onVictim.map(() => 'WORKER_LOST'));
    for (const co of held) await co[Symbol.asyncDispose]();

    // Its entry runs out; meanwhile and after, every checkout goes to the others (the
    // pool's idle connections to them, newest first).
    const survivors = others.map((server) => server.endpoint);
    const seen = new Set<string>();
    const untilGone = untilListed(service, survivors, 'the dead server dropped from the list');
    for (let i = 0; i < 20; i++) {
      await using co = await client.checkout({ timeout: 10_000 });
      seen.add((await co.whoami()).label);
    }
    await untilGone;
    expect(seen.size).toBeGreaterThan(0);
    expect(seen.has('victim')).toBe(false);

    // Back on the same address: listed again, and new connections go to it.
    const port = Number(new URL((victim as RegisteredServer).endpoint).port);
    const back = await startRegistered({
      service,
      label: 'back',
      at: 0,
      port,
      maxWorkers: 2,
    });
    await untilListed(service, [...survivors, back.endpoint], 'the restarted server listed');
    // Six at once: the two others hold four, so two connections must go to it.
    const again = await Promise.all(Array.from({ length: 6 }, () => client.checkout()));
    const againLabels = await Promise.all(again.map(async (co) => (await co.whoami()).label));
    for (const co of again) await co[Symbol.asyncDispose]();
    expect(againLabels).toContain('back');
  });

  it('opens no connection to a server of another interface, and says so when none matches', async () => {
    const service = newService();
    await startListed(service, [
      { label: 'same', at: 0, maxWorkers: 2 },
      { label: 'other', at: 1, maxWorkers: 4, variant: 'b' },
    ]);
    {
      await using client = discovering(service, { maxWorkers: 4 });
      const labels = await Promise.all(
        Array.from({ length: 30 }, async () => {
          await using co = await client.checkout();
          return (await co.whoami()).label;
        }),
      );
      expect(new Set(labels)).toEqual(new Set(['same']));
    }
    const stranger = labelled('c');
    await using client = discovering(service, {}, stranger);
    const error = await client.checkout({ timeout: 20_000 }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(InterfaceMismatchError);
    const hashes = [labelled().describe().hash, labelled('b').describe().hash].sort();
    expect((error as Error).message).toBe(
      `no server of redis service "${service}" serves interface ${stranger.describe().hash}: 2 listed, serving ${hashes
        .map((hash) => `${hash} (1)`)
        .join(', ')}`,
    );
  });

  it('waits for a server to be listed, and says why when it times out', async () => {
    const service = newService();
    await using client = discovering(service);
    await expect(client.checkout({ timeout: 1_500 })).rejects.toThrow(
      `timed out after 1.5 seconds waiting for a worker: no server of redis service "${service}" is listed`,
    );
    const late = client.checkout({ timeout: 20_000 });
    const server = await startRegistered({
      service,
      label: 'late',
      at: 0,
      maxWorkers: 1,
    });
    await using co = await late;
    expect(await co.whoami()).toMatchObject({ label: server.label });
  });
});
