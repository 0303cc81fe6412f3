/**
 * The queue on a real Redis Cluster (three masters on loopback, started for this file):
 * every key of a queue is in the slot of its hash tag and different queues spread; the
 * essentials of each mode work through an ioredis `Cluster` (results, failures, priorities,
 * stats, progress, cancellation, stopping a blocked worker); reliable mode recovers the job
 * of a worker process SIGKILLed mid-job; and, on a cluster with replicas, a failover of the
 * master that holds the queue's slot loses nothing in the record modes.
 */
import { JobFailedError, TimeoutError } from '@taskpool/protocol';
import {
  createQueue,
  type Queue,
  type QueueMode,
  type QueueOptions,
  queueKeys,
  redisRegistry,
} from '@taskpool/redis';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RedisCluster, startRedisCluster } from '../../../test/helpers/redis-cluster.js';
import { keySlot } from '../src/key-slot.js';
import { type ChildWorker, cleanupChildWorkers, startChildWorker } from './helpers/child-worker.js';
import { uniquePrefix } from './helpers/keys.js';
import { delay, eventually } from './helpers/wait.js';

/** Every key under `prefix` on every node of `cluster`, with the port of the node holding it. */
async function keysOnNodes(
  cluster: RedisCluster,
  prefix: string,
): Promise<{ key: string; port: number }[]> {
  const found: { key: string; port: number }[] = [];
  for (const { host, port } of cluster.nodes) {
    const node = new Redis({ host, port, maxRetriesPerRequest: 1 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) found.push({ key, port });
      } while (cursor !== '0');
    } finally {
      node.disconnect();
    }
  }
  return found;
}

/** Tracks what a test opens, and closes it after. */
function tracker(client: () => Cluster) {
  const open: Queue<unknown, unknown>[] = [];
  const children: ChildWorker[] = [];
  const make = <TData = unknown, TResult = unknown, TProgress = unknown>(
    options: Omit<QueueOptions, 'redis'>,
  ) => {
    const queue = createQueue<TData, TResult, TProgress>({ redis: client(), ...options });
    open.push(queue as Queue<unknown, unknown>);
    return queue;
  };
  const cleanup = async () => {
    await Promise.all(children.splice(0).map((child) => child.kill()));
    const queues = open.splice(0);
    // Each obliterate deletes one queue's keys (they are all in its slot, on one node).
    await Promise.all(queues.map((queue) => queue.obliterate().catch(() => 0)));
    await Promise.all(queues.map((queue) => queue.close({ timeout: 2_000 })));
  };
  return { make, children, cleanup };
}

describe('on a 3-master cluster', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    // The application's client: the queues duplicate it and never use it themselves.
    client = new Cluster([...cluster.startupNodes], { lazyConnect: true });
  });
  afterAll(async () => {
    await cleanupChildWorkers();
    client?.disconnect();
    await cluster?.close();
  });

  const { make, children, cleanup } = tracker(() => client);
  afterEach(cleanup);

  it('puts every key of a queue in the slot of its name, and spreads queues over the masters', async () => {
    const probe = new Cluster([...cluster.startupNodes]);
    try {
      const keys = queueKeys('app', 'mail');
      const names = [
        keys.wait('default'),
        keys.marker('default'),
        keys.job('42'),
        keys.processing('w1'),
        keys.workers,
        keys.delayed,
        keys.failed,
        keys.done('c1'),
        keys.cancel,
        keys.probe('s1'),
      ];
      const slots = new Set<number>();
      for (const name of names) {
        const slot = Number(await probe.cluster('KEYSLOT', name));
        expect(slot).toBe(keySlot(name));
        slots.add(slot);
      }
      expect(slots).toEqual(new Set([keySlot('mail')]));

      // Twenty queues: in many slots, on every master.
      const queueSlots = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          probe.cluster('KEYSLOT', queueKeys('app', `q${i}`).base),
        ),
      );
      expect(new Set(queueSlots).size).toBeGreaterThan(15);
      const owners = await Promise.all(queueSlots.map((slot) => cluster.masterOf(Number(slot))));
      expect(new Set(owners).size).toBe(3);
    } finally {
      probe.disconnect();
    }
  });

  it('keeps a service registry in the slot of the service, through a Cluster client', async () => {
    const prefix = uniquePrefix();
    const registry = redisRegistry({ redis: client, service: 'hasher', prefix });
    const announcement = {
      id: 'host:1:abcdef01',
      endpoint: 'tcp://127.0.0.9:7000',
      version: '0.1.0',
      interfaceHash: null,
      maxWorkers: 4,
      spare: 2,
      busy: 1,
      waiting: 0,
    };
    const errors: unknown[] = [];
    const listing = registry.register(
      () => announcement,
      (error) => errors.push(error),
    );
    const seen: unknown[][] = [];
    const watching = registry.watch(
      (servers) => seen.push(servers),
      (error) => errors.push(error),
    );
    try {
      await eventually(() => seen.some((servers) => servers.length === 1), 10_000);
      expect(seen.find((servers) => servers.length === 1)).toEqual([announcement]);
      const keys = await keysOnNodes(cluster, prefix);
      expect(keys.map(({ key }) => key).sort()).toEqual([
        `${prefix}:registry:{hasher}:alive`,
        `${prefix}:registry:{hasher}:servers`,
      ]);
      expect(new Set(keys.map(({ key }) => keySlot(key)))).toEqual(new Set([keySlot('hasher')]));
    } finally {
      await listing.stop();
      await watching.stop();
    }
    expect(errors).toEqual([]);
    // Withdrawn: the entry is gone, the keys too once empty.
    expect((await keysOnNodes(cluster, prefix)).map(({ key }) => key)).toEqual([]);
  });

  describe.each<QueueMode>(['simple', 'recoverable', 'reliable'])('%s mode', (mode) => {
    it('runs jobs at concurrency 8, in priority order, with stats, and all keys on one node', async () => {
      const prefix = uniquePrefix();
      const options = { name: `essentials-${mode}`, prefix, mode, priorities: ['high', 'low'] };
      const submitter = make<{ a: number; b: number }, number>(options);
      const workers = make<{ a: number; b: number }, number>(options);

      // Queued before any worker runs: the high one must be taken first.
      const low = await submitter.submit({ a: 1, b: 1 }, { priority: 'low' });
      const high = await submitter.submit({ a: 2, b: 2 }, { priority: 'high' });
      const stats = await submitter.stats();
      expect(stats).toMatchObject({ waiting: { high: 1, low: 1 }, queued: 2 });
      if (mode === 'reliable') expect(stats).toMatchObject({ workers: 0, running: 0 });

      // While the jobs sit in Redis: every key of the queue is in its slot, on its master.
      const slot = keySlot(queueKeys(prefix, options.name).base);
      const master = await cluster.masterOf(slot);
      const stored = await keysOnNodes(cluster, prefix);
      expect(stored.length).toBeGreaterThan(0);
      for (const { key, port } of stored) {
        expect(keySlot(key)).toBe(slot);
        expect(port).toBe(master);
      }

      const order: number[] = [];
      const consumer = workers.process(
        (job) => {
          order.push(job.data.a);
          return job.data.a + job.data.b;
        },
        { concurrency: 1 },
      );
      expect(await high.result).toBe(4);
      expect(await low.result).toBe(2);
      expect(order).toEqual([2, 1]);
      await consumer.stop();

      workers.process((job) => job.data.a + job.data.b, { concurrency: 8 });
      const sums = await Promise.all(
        Array.from({ length: 200 }, (_, i) => submitter.run({ a: i, b: 2 * i })),
      );
      expect(sums).toEqual(Array.from({ length: 200 }, (_, i) => 3 * i));
    });

    it('reports failures, and a stopped worker blocked on the cluster returns at once', async () => {
      const prefix = uniquePrefix();
      // A short backoff: in reliable mode the failing job is retried before it fails.
      const options = { name: `failures-${mode}`, prefix, mode, backoff: 10 };
      const submitter = make<string, string>(options);
      const workers = make<string, string>(options);
      const consumer = workers.process((job) => {
        if (job.data === 'bad') throw new RangeError('bad input');
        return job.data.toUpperCase();
      });
      expect(await submitter.run('ok')).toBe('OK');
      const error = await submitter.run('bad').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobFailedError);
      expect((error as JobFailedError).message).toMatch(/bad input/);
      // Once the worker is idle, blocked on the queue's master, CLIENT UNBLOCK must reach
      // that node: without it stop() would wait out the block (5 s).
      const master = await cluster.masterOf(keySlot(queueKeys(prefix, options.name).base));
      const blocked = new RegExp(`name=taskpool:${options.name}:worker:\\S+ .*flags=b .*cmd=b`);
      await eventually(
        async () => blocked.test(await cluster.command(master, 'CLIENT', 'LIST')),
        5_000,
        'the worker blocked on the master',
      );
      const started = Date.now();
      await consumer.stop({ timeout: 10_000 });
      expect(Date.now() - started).toBeLessThan(1_500);
    });
  });

  describe.each<QueueMode>(['recoverable', 'reliable'])('%s mode', (mode) => {
    it('publishes progress, collects a result, cancels a running job', async () => {
      const prefix = uniquePrefix();
      const options = { name: `records-${mode}`, prefix, mode };
      const submitter = make<number, string, number>(options);
      const workers = make<number, string, number>(options);
      const aborted: unknown[] = [];
      workers.process(
        async (job) => {
          if (job.data < 0) {
            await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
            aborted.push(job.signal.reason);
            return 'aborted';
          }
          for (let i = 1; i <= job.data; i++) await job.progress(i);
          return `counted to ${job.data}`;
        },
        { concurrency: 2 },
      );
      const handle = await submitter.submit(3);
      const seen: number[] = [];
      for await (const step of handle.progress) seen.push(step);
      expect(await handle.result).toBe('counted to 3');
      expect(seen).toEqual([1, 2, 3]);

      const record = await submitter.getJob((await submitter.submit(0)).id);
      expect(record?.data).toBe(0);

      const slow = await submitter.submit(-1, { timeout: 300 });
      await expect(slow.result).rejects.toBeInstanceOf(TimeoutError);
      await eventually(() => aborted.length === 1, 5_000, 'the running job aborted');
      expect(aborted[0]).toBeInstanceOf(TimeoutError);
    });
  });

  it('reliable: a worker process SIGKILLed mid-job has its job completed by another', async () => {
    const prefix = uniquePrefix();
    const options = { name: 'recovery', prefix, mode: 'reliable' as const, leaseTime: 1_000 };
    const submitter = make<{ n: number }, number>(options);
    const doomed = await startChildWorker({
      REDIS_CLUSTER: cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(','),
      QUEUE_NAME: options.name,
      QUEUE_PREFIX: prefix,
      LEASE_MS: '1000',
      BEHAVIOUR: 'hang',
    });
    children.push(doomed);
    const handle = await submitter.submit({ n: 21 }, { timeout: 30_000 });
    const [, id, attempt] = await doomed.line(/^started (\S+) (\d+)$/);
    expect([id, attempt]).toEqual([handle.id, '1']);
    await doomed.kill();

    const seen: number[] = [];
    make<{ n: number }, number>(options).process((job) => {
      seen.push(job.attempt);
      return job.data.n * 2;
    });
    expect(await handle.result).toBe(42);
    expect(seen).toEqual([2]);
    const left = (await keysOnNodes(cluster, prefix)).filter(({ key }) =>
      key.includes(':processing:'),
    );
    expect(left).toEqual([]);
    expect(submitter.metrics()?.submitted).toBe(1);
  });
});

describe('on a cluster with replicas', () => {
  let cluster: RedisCluster;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ replicas: true, nodeTimeout: 1_000 });
    client = new Cluster([...cluster.startupNodes], { lazyConnect: true });
  }, 60_000);
  afterAll(async () => {
    client?.disconnect();
    await cluster?.close();
  });

  const { make, cleanup } = tracker(() => client);
  afterEach(cleanup);

  /**
   * Runs 300 jobs, 20 in flight at a time, and calls `failover` once 100 results arrived,
   * with the port of the master that serves the queue's slot and of its replica; then
   * waits for the replica to serve the slot. Every result must arrive, and be right.
   */
  async function acrossFailover(
    mode: QueueMode,
    failover: (master: number, replica: number) => Promise<void>,
  ) {
    const prefix = uniquePrefix();
    // A queue whose master still has a replica (an earlier test may have killed one).
    let name = '';
    let master = 0;
    let replicas: number[] = [];
    for (let n = 0; replicas.length === 0; n++) {
      name = `failover-${mode}-${n}`;
      master = await cluster.masterOf(keySlot(queueKeys(prefix, name).base));
      replicas = await cluster.replicasOf(master);
    }
    const replica = replicas[0] as number;
    const slot = keySlot(queueKeys(prefix, name).base);
    const options = { name, prefix, mode, leaseTime: 5_000, timeout: 60_000 };
    const submitter = make<number, number>(options);
    make<number, number>(options).process(
      async (job) => {
        await delay(5);
        return job.data * 2;
      },
      { concurrency: 4 },
    );

    const total = 300;
    const values: number[] = [];
    let next = 0;
    const lane = async () => {
      while (next < total) {
        const i = next++;
        values[i] = await submitter.run(i);
      }
    };
    const running = Promise.all(Array.from({ length: 20 }, lane));
    await eventually(() => values.filter((v) => v !== undefined).length >= 100, 30_000);
    await failover(master, replica);
    await eventually(
      async () => (await cluster.masterOf(slot).catch(() => 0)) === replica,
      20_000,
      'the replica serving the slot',
    );
    await running;
    expect(values).toEqual(Array.from({ length: total }, (_, i) => 2 * i));
  }

  describe.each<QueueMode>(['recoverable', 'reliable'])('%s mode', (mode) => {
    it('a manual failover of the master holding the queue loses nothing', async () => {
      await acrossFailover(mode, async (_master, replica) => {
        // The replica catches up with its master, then takes over; the old master stays up.
        expect(await cluster.command(replica, 'CLUSTER', 'FAILOVER')).toMatch(/OK/);
      });
    }, 90_000);

    it('the master holding the queue SIGKILLed: its replica takes over, nothing is lost', async () => {
      await acrossFailover(mode, (master) => cluster.kill(master));
    }, 90_000);
  });
});
