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

function fakePool(options: Partial<PoolOptions> = {}) {
  const opened: FakeConnection[] = [];
  const endpoint: Endpoint = { kind: 'unix', path: '/fake.sock' };
  const pool = new Pool<FakeConnection>(
    {
      minWorkers: 0,
      maxWorkers: 1,
      maxQueue: 100,
      maxCheckouts: null,
      reconnect: { first: 10, every: 10 },
      idleTimeout: null,
      ...options,
    },
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
