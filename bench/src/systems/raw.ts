/**
 * The ceiling: `workers` child processes, each a plain `net` length-prefixed JSON server on
 * a Unix socket (workers/raw-server.ts), and a client of a few dozen lines. Nothing
 * crossing a process boundary in Node can do the same work with less.
 *
 * - `raw`: one connection per in-flight call (one connection in use at a time is plain
 *   ping-pong); its leases (checkout-churn) are an exclusive FIFO pool of one connection
 *   per worker process, the least any checkout pool can do.
 * - `raw-pipelined`: every call on one connection to one process, writes corked per tick;
 *   its streams (stream-items) are item frames the process writes as fast as the socket
 *   takes them, read on that connection.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { bundles } from '../paths.js';
import { socketPath, stopChild, waitForReady } from '../proc.js';
import { encodeRaw, RawReader, type RawReply } from '../raw-frames.js';
import { callWorkloads } from '../workloads.js';
import type { Lease, RunningSystem, StartOptions, System } from './system.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** A stream's items, before its reply; a throw fails the call. */
  onItem?: ((item: unknown) => void) | undefined;
}

class RawConnection {
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #corked = false;

  static open(path: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  private constructor(socket: Socket) {
    this.#socket = socket;
    const reader = new RawReader();
    socket.on('data', (chunk: Buffer) => {
      for (const reply of reader.push(chunk) as RawReply[]) {
        const pending = this.#pending.get(reply.id);
        if (!pending) continue;
        if (reply.item !== undefined) {
          try {
            pending.onItem?.(reply.item);
          } catch (error) {
            // The rest of this stream is dropped: the run fails with the item's error.
            this.#pending.delete(reply.id);
            pending.reject(error);
          }
          continue;
        }
        this.#pending.delete(reply.id);
        if (reply.error === undefined) pending.resolve(reply.result);
        else pending.reject(new Error(reply.error));
      }
    });
    const fail = (error?: Error) => {
      for (const pending of this.#pending.values()) {
        pending.reject(error ?? new Error('raw connection closed'));
      }
      this.#pending.clear();
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
  }

  call(method: string, args: unknown[], onItem?: (item: unknown) => void): Promise<unknown> {
    const id = this.#nextId++;
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    this.#socket.write(encodeRaw({ id, method, args }));
    return new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject, onItem }));
  }

  close(): void {
    this.#socket.destroy();
  }
}

interface RawServer {
  path: string;
  ready: Promise<unknown>;
}

/**
 * Spawns the server processes at once and resolves with them as soon as the first is
 * ready (so cold-start counts one process start, the least possible); a connection to
 * one not ready yet waits for it. `nth(k)` counts round-robin from the first one ready.
 */
async function startServers(options: StartOptions) {
  const children: ChildProcess[] = [];
  const servers: RawServer[] = [];
  for (let i = 0; i < options.workers; i++) {
    const path = socketPath(options.socketDir, `raw-${i}`);
    const child = spawn(process.execPath, [...process.execArgv, bundles.rawServer, path], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    servers.push({ path, ready: waitForReady(child) });
  }
  // Every server must come up eventually; a failure surfaces on its first connection.
  for (const server of servers) server.ready.catch(() => {});
  const first = await Promise.any(servers.map((server, i) => server.ready.then(() => i)));
  const nth = (k: number) => servers[(first + k) % servers.length] as RawServer;
  return { children, nth };
}

async function startRaw(options: StartOptions, pipelined: boolean): Promise<RunningSystem> {
  const { children, nth } = await startServers(options);
  const connections: RawConnection[] = [];
  const open = async (server: RawServer) => {
    await server.ready;
    const connection = await RawConnection.open(server.path);
    connections.push(connection);
    return connection;
  };

  // One connection per in-flight call, reused most-recent-first.
  const idle: RawConnection[] = [];
  let opened = 0;
  const perCall = async (method: string, args: unknown[]) => {
    const connection = idle.pop() ?? (await open(nth(opened++)));
    try {
      return await connection.call(method, args);
    } finally {
      idle.push(connection);
    }
  };

  // Everything on one connection.
  let shared: Promise<RawConnection> | undefined;
  const onShared = async (method: string, args: unknown[]) => {
    shared ??= open(nth(0));
    return (await shared).call(method, args);
  };

  const call = pipelined ? onShared : perCall;

  // Leases: one connection per worker process, FIFO waiters.
  const free: RawConnection[] = [];
  const waiters: ((connection: RawConnection) => void)[] = [];
  let leased = 0;
  const checkout = async (): Promise<Lease> => {
    let connection = free.pop();
    if (!connection && leased < options.workers) connection = await open(nth(leased++));
    connection ??= await new Promise<RawConnection>((resolve) => waiters.push(resolve));
    const held = connection;
    return {
      echo: (value) => held.call('echo', [value]),
      release: async () => {
        const next = waiters.shift();
        if (next) next(held);
        else free.push(held);
      },
    };
  };

  // A stream on the shared connection, as its calls (raw-pipelined only).
  const stream = async (count: number, onItem: (item: unknown) => void) => {
    shared ??= open(nth(0));
    return (await shared).call('items', [count], onItem);
  };

  return {
    echo: (value) => call('echo', [value]),
    hash: (password, salt) => call('hash', [password, salt]),
    ...(pipelined ? { stream } : {}),
    checkout,
    workerPids: async () => children.flatMap((child) => (child.pid ? [child.pid] : [])),
    close: async () => {
      for (const connection of connections) connection.close();
      await Promise.all(children.map((child) => stopChild(child)));
    },
  };
}

export const rawSystems: System[] = [
  {
    name: 'raw',
    family: 'raw',
    shape:
      'net + JSON echo processes; one connection per in-flight call, leases = FIFO pool of one connection per process',
    isolation: 'process',
    workloads: callWorkloads,
    start: (options) => startRaw(options, false),
  },
  {
    name: 'raw-pipelined',
    family: 'raw',
    shape:
      'net + JSON echo process; every call pipelined on one connection; a stream = item frames written as fast as the socket drains, 64 to a write',
    isolation: 'process',
    workloads: ['echo-pipelined', 'echo-10k', 'stream-items'],
    start: (options) => startRaw(options, true),
  },
];
