// The pool's rules with in-memory connections (no processes): waiting checkouts are served
// first come first served, a destroyed worker is counted lost and replaced, maxCheckouts
// and idleTimeout close workers on purpose (retired).
import { type Endpoint, type TaskpoolError, WorkerLostError } from '@taskpool/protocol';
import { expect, it } from 'vitest';
import { Pool, type PoolConnection, type PoolEvents, type PoolOptions } from '../src/pool.js';
import { eventually } from './helpers/harness.js';

let nextPid = 1;

class FakeConnection implements PoolConnection {
  readonly pid = nextPid++;
  isOpen = true;
  retiring = false;
  dones = 0;
  constructor(readonly events: PoolEvents<FakeConnection>) {}
  done(): void {
    this.dones++;
  }
  close(error: TaskpoolError = new WorkerLostError('closed')): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.events.onClosed(this, error);
  }
}

/** The options of these pools, but those a test sets. */
const OPTIONS: PoolOptions = {
  minWorkers: 0,
  maxWorkers: 1,
  maxQueue: 100,
  maxCheckouts: null,
  reconnect: { first: 10, every: 10 },
  idleTimeout: null,
};

function fakePool(options: Partial<PoolOptions> = {}) {
  const opened: FakeConnection[] = [];
  const endpoint: Endpoint = { kind: 'unix', path: '/fake.sock' };
  const pool = new Pool<FakeConnection>(
    { ...OPTIONS, ...options },
    [endpoint],
    (_endpoint, events) => {
      const connection = new FakeConnection(events);
      opened.push(connection);
      return Promise.resolve(connection);
    },
  );
  return { pool, opened };
}

it('serves waiting checkouts first come first served', async () => {
  const { pool } = fakePool({ maxWorkers: 1 });
  const first = await pool.acquire(null, undefined);
  const order: string[] = [];
  const waiting = ['b', 'c', 'd'].map((name) =>
    pool.acquire(null, undefined).then((connection) => {
      order.push(name);
      return connection;
    }),
  );
  expect(pool.stats()).toMatchObject({ busy: 1, waiting: 3 });
  pool.release(first, 'pool');
  for (const next of waiting) pool.release(await next, 'pool');
  expect(order).toEqual(['b', 'c', 'd']);
  expect(first.dones).toBe(4);
  expect(pool.stats()).toMatchObject({ idle: 1, busy: 0, waiting: 0, lost: 0, retired: 0 });
});

it('counts a destroyed worker as lost and refills to minWorkers', async () => {
  const { pool, opened } = fakePool({ minWorkers: 1, maxWorkers: 2 });
  const connection = await pool.acquire(null, undefined);
  pool.release(connection, 'destroy');
  expect(connection.isOpen).toBe(false);
  await eventually(() => pool.stats().idle === 1, 5_000, 'the refill');
  expect(pool.stats()).toMatchObject({ lost: 1, retired: 0, busy: 0 });
  expect(opened).toHaveLength(2);
});

it('retires a worker at maxCheckouts', async () => {
  const { pool } = fakePool({ maxWorkers: 1, maxCheckouts: 2 });
  const connection = await pool.acquire(null, undefined);
  pool.release(connection, 'pool');
  expect(await pool.acquire(null, undefined)).toBe(connection);
  pool.release(connection, 'pool');
  expect(connection.isOpen).toBe(false);
  expect(pool.stats()).toMatchObject({ retired: 1, lost: 0 });
});

it('closes workers above minWorkers idle longer than idleTimeout, as retired', async () => {
  const { pool } = fakePool({ minWorkers: 1, maxWorkers: 3, idleTimeout: 50 });
  const held = await Promise.all([1, 2, 3].map(() => pool.acquire(null, undefined)));
  expect(pool.stats()).toMatchObject({ busy: 3 });
  for (const connection of held) pool.release(connection, 'pool');
  await eventually(() => pool.stats().idle === 1, 5_000, 'down to minWorkers');
  expect(pool.stats()).toMatchObject({ retired: 2, lost: 0, busy: 0 });
  // The one kept is the one returned last: the pool gives out the most recently idle.
  expect(held.filter((connection) => connection.isOpen)).toEqual([held[2]]);
});

// Discovered servers: the list changes while the pool probes servers that do not answer.
it('keeps probing when the server it was probing leaves the list, and reaches one that comes back', async () => {
  const a: Endpoint = { kind: 'tcp', host: '10.0.0.1', port: 7000 };
  const b: Endpoint = { kind: 'tcp', host: '10.0.0.2', port: 7000 };
  let bUp = false;
  const tried: string[] = [];
  /** The attempts to A, each of which hangs as one to a host off the network does. */
  const attemptsA: ((error: Error) => void)[] = [];
  const pool = new Pool<FakeConnection>(
    { ...OPTIONS, maxWorkers: 2, reconnect: { first: 10, every: 20 } },
    [],
    (endpoint, events) => {
      const host = endpoint.kind === 'tcp' ? endpoint.host : '';
      tried.push(host);
      if (host === '10.0.0.2' && bUp) return Promise.resolve(new FakeConnection(events));
      if (host === '10.0.0.1') {
        return new Promise((_, reject) => {
          attemptsA.push(reject);
        });
      }
      return Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      );
    },
    'a test registry',
  );
  try {
    pool.updateServers({
      targets: [
        { endpoint: a, room: 2 },
        { endpoint: b, room: 2 },
      ],
    });
    const waiting = pool.acquire(10_000, undefined);
    // Both down: the first attempt to A hangs; failed, the pool probes one at a time.
    await eventually(() => attemptsA.length === 1, 5_000, 'an attempt to A');
    attemptsA[0]?.(new Error('connect ETIMEDOUT'));
    await eventually(() => attemptsA.length === 2, 5_000, 'a probe of A');
    // A's entry runs out while that probe is under way; then B is back.
    pool.updateServers({ targets: [{ endpoint: b, room: 2 }] });
    attemptsA[1]?.(new Error('connect ETIMEDOUT'));
    bUp = true;
    const connection = await waiting;
    expect(connection.isOpen).toBe(true);
    expect(tried.at(-1)).toBe('10.0.0.2');
  } finally {
    pool.destroy();
  }
});

it('fails a checkout past its waitForServer while the servers cannot be listed', async () => {
  const pool = new Pool<FakeConnection>(
    OPTIONS,
    [],
    (_endpoint, events) => Promise.resolve(new FakeConnection(events)),
    'a test registry',
  );
  try {
    const waiting = pool.acquire(60_000, undefined, 0).catch((error: unknown) => error);
    pool.discoveryFailed(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    const error = (await waiting) as Error;
    expect(error.message).toBe(
      'timed out after 0 seconds waiting for a server: no server of a test registry is listed (reading it failed: connect ECONNREFUSED 127.0.0.1:6379)',
    );
  } finally {
    pool.destroy();
  }
});

it('probes every server in turn while none answers, and spreads over all once they do', async () => {
  const a: Endpoint = { kind: 'tcp', host: '10.0.0.1', port: 7000 };
  const b: Endpoint = { kind: 'tcp', host: '10.0.0.2', port: 7000 };
  const up = new Set<string>();
  const opened: string[] = [];
  const pool = new Pool<FakeConnection>(
    { ...OPTIONS, maxWorkers: 4, reconnect: { first: 5, every: 5 } },
    [a, b],
    (endpoint, events) => {
      const host = endpoint.kind === 'tcp' ? endpoint.host : '';
      if (!up.has(host)) {
        return Promise.reject(
          Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        );
      }
      opened.push(host);
      return Promise.resolve(new FakeConnection(events));
    },
  );
  try {
    const first = pool.acquire(10_000, undefined);
    // Both down long enough for several probes; then only A comes back.
    await eventually(() => pool.stats().connectFailures >= 6, 5_000, 'several probes');
    up.add('10.0.0.1');
    await first;
    // B comes back too: the next connections go to both, not all to A.
    up.add('10.0.0.2');
    const more = await Promise.all([1, 2, 3].map(() => pool.acquire(10_000, undefined)));
    expect(more).toHaveLength(3);
    expect(opened.filter((host) => host === '10.0.0.2').length).toBeGreaterThan(0);
  } finally {
    pool.destroy();
  }
});
