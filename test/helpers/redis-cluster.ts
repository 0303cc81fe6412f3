/**
 * A private Redis Cluster on loopback, for the queue's cluster tests: three masters (and,
 * on request, one replica each) started with `redis-server --cluster-enabled yes` on free
 * ports, joined with `redis-cli --cluster create`, and ready once every node reports
 * `cluster_state:ok`. Every process it starts is reaped by `close()`, and killed when the
 * test process exits whatever happened.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { exited, startRedisProcess, waitUntil } from './redis-process.js';

/** One node of the cluster. */
export interface ClusterNodeAddress {
  readonly host: '127.0.0.1';
  readonly port: number;
}

/** What {@link startRedisCluster} started. */
export interface RedisCluster {
  /** Every node, masters first as created (the replicas' roles change on failover). */
  readonly nodes: readonly ClusterNodeAddress[];
  /** Startup nodes for `new Cluster(...)`: the three first masters. */
  readonly startupNodes: readonly ClusterNodeAddress[];
  /** Runs one command on the node on `port` (with redis-cli) and returns its output. */
  command(port: number, ...args: string[]): Promise<string>;
  /** The port of the master that serves `slot` now, as that node's peers see it. */
  masterOf(slot: number): Promise<number>;
  /** The ports of the replicas of the master on `port`. */
  replicasOf(port: number): Promise<number[]>;
  /** SIGKILLs one node (a crash) and waits for the process to be gone. */
  kill(port: number): Promise<void>;
  /** Kills and reaps every node and deletes their files. */
  close(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /**
   * Start one replica per master (six servers), for failover tests.
   *
   * @default false
   */
  replicas?: boolean;
  /**
   * `cluster-node-timeout` in ms: how long a silent master takes to be judged failed.
   *
   * @default 1_000
   */
  nodeTimeout?: number;
  /**
   * How long starting may take, in ms, before it fails.
   *
   * @default 20_000
   */
  timeout?: number;
}

const HOST = '127.0.0.1';

/** Runs `redis-cli` with `args`; rejects with its output when it fails. */
function redisCli(args: string[], ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: ms }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`redis-cli ${args.join(' ')}: ${error.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** One parsed line of CLUSTER NODES. */
interface NodeLine {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  masterId: string;
  slots: [number, number][];
}

function parseNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id = '', address = '', flags = '', masterId = '', , , , , ...slots] = line.split(' ');
      const port = Number(address.slice(address.lastIndexOf(':') + 1).split('@')[0]);
      return {
        id,
        port,
        master: flags.split(',').includes('master'),
        failed: /fail/.test(flags),
        masterId,
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [from, to = from] = s.split('-');
            return [Number(from), Number(to)] as [number, number];
          }),
      };
    });
}

/**
 * Starts a cluster of three masters (plus three replicas with `replicas: true`) on free
 * loopback ports, and resolves once every node says `cluster_state:ok`.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const { replicas = false, nodeTimeout = 1_000, timeout = 20_000 } = options;
  const deadline = Date.now() + timeout;
  /** What is left of `timeout` for the next wait. */
  const left = () => Math.max(0, deadline - Date.now());
  const dir = mkdtempSync(join(tmpdir(), 'taskpool-cluster-'));
  const children = new Map<number, ChildProcess>();
  const count = replicas ? 6 : 3;
  const nodes: ClusterNodeAddress[] = [];

  const killAll = async () => {
    await Promise.all(
      [...children.values()].map(async (child) => {
        child.kill('SIGKILL');
        await exited(child, 5_000).catch(() => {});
      }),
    );
    children.clear();
  };

  const command = (port: number, ...args: string[]) =>
    redisCli(['-h', HOST, '-p', String(port), ...args], 5_000);

  try {
    for (let i = 0; i < count; i++) {
      // The cluster bus port is given too: the default (port + 10000) may be taken or past 65535.
      const [port, busPort] = [await freePort(), await freePort()];
      const child = await startRedisProcess(
        port,
        dir,
        [
          '--cluster-port',
          String(busPort),
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          String(nodeTimeout),
        ],
        left(),
      );
      children.set(port, child);
      nodes.push({ host: HOST, port });
    }
    await redisCli(
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `${n.host}:${n.port}`),
        '--cluster-replicas',
        replicas ? '1' : '0',
        '--cluster-yes',
      ],
      Math.max(1_000, deadline - Date.now()),
    );
    for (const { port } of nodes) {
      await waitUntil(
        async () => {
          const text = await command(port, 'CLUSTER', 'INFO');
          return text.includes('cluster_state:ok') && text.includes(`cluster_known_nodes:${count}`);
        },
        left(),
        `cluster_state:ok on port ${port}`,
      );
    }
    if (replicas) {
      // A replica that has not finished its first sync cannot take over: wait for the links.
      for (const { port } of nodes) {
        await waitUntil(
          async () => {
            const text = await command(port, 'INFO', 'replication');
            return text.includes('role:master') || text.includes('master_link_status:up');
          },
          left(),
          `replication link up on port ${port}`,
        );
      }
    }
  } catch (error) {
    await killAll();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  /** CLUSTER NODES as seen by a live node. */
  const view = async (): Promise<NodeLine[]> => {
    for (const port of children.keys()) {
      try {
        return parseNodes(await command(port, 'CLUSTER', 'NODES'));
      } catch {
        // That node is down: ask another.
      }
    }
    throw new Error('redis cluster: no node answers');
  };

  return {
    nodes,
    startupNodes: nodes.slice(0, 3),
    command,
    async masterOf(slot) {
      const owner = (await view()).find(
        (n) => n.master && !n.failed && n.slots.some(([from, to]) => from <= slot && slot <= to),
      );
      if (!owner) throw new Error(`redis cluster: no live master serves slot ${slot}`);
      return owner.port;
    },
    async replicasOf(port) {
      const lines = await view();
      const master = lines.find((n) => n.port === port);
      return lines.filter((n) => master && n.masterId === master.id).map((n) => n.port);
    },
    async kill(port) {
      const child = children.get(port);
      if (!child) return;
      children.delete(port);
      child.kill('SIGKILL');
      await exited(child, 5_000);
    },
    async close() {
      await killAll();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
