// A server that cannot be reached: the client keeps trying until the deadline (a client may
// start before its server), but the TIMEOUT says what it saw: each endpoint, its last
// connect error and the attempts made. A server that says its workers cannot start fails
// the checkouts waiting at once; `waitForServer` bounds the wait for an unreachable server.
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, ServerBusyError, TimeoutError } from '@taskpool/client';
import { PROTOCOL_VERSION, WorkerStartFailedError } from '@taskpool/protocol';
import { encodeFrame, toWire } from '@taskpool/protocol/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/ports.js';
import { socketPath } from '../../../test/helpers/sockets.js';
import { serve } from './helpers/harness.js';

const missingSocket = () =>
  `unix:${join(tmpdir(), `taskpool-missing-${process.pid}-${Date.now()}`, 'taskpool.sock')}`;

const fast = { minWorkers: 0, reconnect: { first: 20, every: 50 } };

type Seen = TimeoutError & { cause: NodeJS.ErrnoException; data: { endpoints: unknown[] } };

describe('an unreachable server', () => {
  it('names the endpoint, ENOENT and the attempts when the Unix socket does not exist', async () => {
    const endpoint = missingSocket();
    await using client = createClient({ connect: endpoint, ...fast });
    const error = (await client.checkout({ timeout: 1_000 }).catch((e: unknown) => e)) as Seen;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(
      /^timed out after 1 seconds waiting for a worker: could not connect to unix:\S+taskpool\.sock \(ENOENT: no such file or directory; \d+ attempts?\)$/,
    );
    expect(error.message).toContain(endpoint);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause.code).toBe('ENOENT');
    expect(error.data.endpoints).toEqual([
      {
        endpoint,
        attempts: expect.any(Number),
        error: 'ENOENT: no such file or directory',
        code: 'ENOENT',
        connections: 0,
      },
    ]);
    const attempts = Number(/(\d+) attempts?/.exec(error.message)?.[1]);
    expect(attempts).toBeGreaterThanOrEqual(1);
    expect(client.stats().connectFailures).toBeGreaterThanOrEqual(attempts);
  });

  it('names the endpoint and ECONNREFUSED when the TCP port refuses, for client.call too', async () => {
    const endpoint = `tcp://127.0.0.1:${await freePort()}`;
    await using client = createClient({ connect: endpoint, ...fast });
    const error = (await client
      .call('anything', [], { timeout: 1_000 })
      .catch((e: unknown) => e)) as Seen;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toMatch(
      /^timed out after 1 seconds waiting for a worker: could not connect to tcp:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED: connection refused; \d+ attempts?\)$/,
    );
    expect(error.message).toContain(endpoint);
    expect(error.cause.code).toBe('ECONNREFUSED');
  });

  it('says what each endpoint last did', async () => {
    const missing = missingSocket();
    const refused = `tcp://127.0.0.1:${await freePort()}`;
    await using client = createClient({ connect: [missing, refused], ...fast });
    const error = (await client.checkout({ timeout: 1_000 }).catch((e: unknown) => e)) as Seen;
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain(
      `could not connect to ${missing} (ENOENT: no such file or directory; `,
    );
    expect(error.message).toContain(
      `could not connect to ${refused} (ECONNREFUSED: connection refused; `,
    );
    expect(['ENOENT', 'ECONNREFUSED']).toContain(error.cause.code);
    expect(error.data.endpoints).toHaveLength(2);
  });

  it('keeps the bare message when the server answers and its workers are all busy', async () => {
    await using server = await serve('scenario-worker.ts');
    await using client = createClient({ connect: server.endpoint, minWorkers: 0, maxWorkers: 1 });
    await using held = await client.checkout();
    const error = (await client
      .checkout({ timeout: 1_000, waitForServer: 0 })
      .catch((e: unknown) => e)) as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe('timed out after 1 seconds');
    expect(error.cause).toBeUndefined();
    void held;
  });
});

/** A tiny server speaking the framing: `greet` writes the first frame of every connection. */
class TinyServer {
  readonly path = socketPath(`tiny-${Date.now()}.sock`);
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  connections = 0;

  constructor(public greet: () => unknown) {
    this.#server = createServer((socket) => {
      this.connections++;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
      socket.write(encodeFrame(this.greet()));
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(this.path, resolve));
  }

  close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

const refusal = (error: Error) => ({ type: 'error', id: 0, error: toWire(error) });
const hello = () => ({
  type: 'hello',
  protocol: PROTOCOL_VERSION,
  pid: process.pid,
  server: 'tiny',
  worker: 1,
  interface: null,
});

let tiny: TinyServer | undefined;
afterEach(async () => {
  await tiny?.close();
  tiny = undefined;
});

describe('a server that refuses before hello', () => {
  it('fails waiting checkouts at once with WORKER_START_FAILED; a later checkout tries again', async () => {
    const loadError = 'worker code failed to load: Cannot find module /app/worker.js';
    tiny = new TinyServer(() => refusal(new WorkerStartFailedError(loadError)));
    await tiny.listen();
    await using client = createClient({ connect: `unix:${tiny.path}`, ...fast });
    // No deadline: only the server's refusal can end these waits.
    const waiting = [client.checkout({ timeout: null }), client.checkout({ timeout: null })];
    for (const error of await Promise.all(waiting.map((co) => co.catch((e: unknown) => e)))) {
      expect(error).toBeInstanceOf(WorkerStartFailedError);
      expect(error).toMatchObject({
        name: 'WorkerStartFailedError',
        code: 'WORKER_START_FAILED',
        message: loadError,
      });
    }
    expect(client.stats().waiting).toBe(0);
    const seen = tiny.connections;
    // Fixed and restarted: the next checkout connects again and gets a worker.
    tiny.greet = hello;
    await using co = await client.checkout({ timeout: null });
    expect(co.worker).toMatchObject({ type: 'hello', server: 'tiny' });
    expect(tiny.connections).toBeGreaterThan(seen);
  });

  it("fails a checkout with WORKER_START_FAILED only from its own attempts, not another endpoint's older refusal", async () => {
    const loadError = 'worker code failed to load: Cannot find module /app/worker.js';
    tiny = new TinyServer(() => refusal(new WorkerStartFailedError(loadError)));
    await tiny.listen();
    const missing = missingSocket();
    const refusing = `unix:${tiny.path}`;
    // The missing socket first: the first checkout tries it, then the refusing server.
    await using client = createClient({ connect: [missing, refusing], ...fast });
    const first = await client
      .checkout({ timeout: null, waitForServer: 0 })
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(WorkerStartFailedError);
    expect(tiny.connections).toBe(1);
    // The refusal is old news to the next checkout, whose own attempt goes to the missing
    // socket (down longest, or back up for a retry): it is told about ENOENT, with the
    // refusal as what the other endpoint last did.
    const second = (await client
      .checkout({ timeout: null, waitForServer: 0 })
      .catch((e: unknown) => e)) as Seen;
    expect(tiny.connections).toBe(1);
    expect(second).toBeInstanceOf(TimeoutError);
    expect(second.cause.code).toBe('ENOENT');
    expect(second.message).toContain(`could not connect to ${missing} (ENOENT: `);
    expect(second.message).toContain(
      `could not connect to ${refusing} (WORKER_START_FAILED: ${loadError}; 1 attempt)`,
    );
  });

  it('waits on SERVER_BUSY, and its TIMEOUT names it', async () => {
    tiny = new TinyServer(() => refusal(new ServerBusyError('no worker became free within 5 ms')));
    await tiny.listen();
    await using client = createClient({ connect: `unix:${tiny.path}`, ...fast });
    const error = (await client.checkout({ timeout: 1_000 }).catch((e: unknown) => e)) as Seen;
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain(
      `could not connect to unix:${tiny.path} (SERVER_BUSY: no worker became free within 5 ms; `,
    );
    expect(error.cause).toBeInstanceOf(ServerBusyError);
  });
});

describe('waitForServer', () => {
  it('0: gives up at the first failed attempt, saying why', async () => {
    const endpoint = missingSocket();
    await using client = createClient({ connect: endpoint, minWorkers: 0 });
    // No deadline: only waitForServer can end this wait.
    const error = (await client
      .checkout({ timeout: null, waitForServer: 0 })
      .catch((e: unknown) => e)) as Seen;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe(
      `timed out after 0 seconds waiting for a server to answer: could not connect to ${endpoint} (ENOENT: no such file or directory; 1 attempt)`,
    );
    expect(error.cause.code).toBe('ENOENT');
    expect(client.stats().waiting).toBe(0);
  });

  it('a bound: keeps trying that long, then gives up; client.call takes it too', async () => {
    const endpoint = missingSocket();
    await using client = createClient({ connect: endpoint, ...fast });
    // Long beside the first attempt's ENOENT (it comes at once) and the 20 ms to the next.
    const error = (await client
      .call('anything', [], { timeout: null, waitForServer: 500 })
      .catch((e: unknown) => e)) as TimeoutError & {
      data: { endpoints: { attempts: number }[] };
    };
    expect(error.code).toBe('TIMEOUT');
    const said =
      /^timed out after 0\.5 seconds waiting for a server to answer: could not connect to .* \(ENOENT: no such file or directory; (\d+) attempts\)$/.exec(
        error.message,
      );
    expect(said, error.message).not.toBeNull();
    // It kept trying: giving up at the first failed attempt would say 1.
    const attempts = Number(said?.[1]);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(error.data.endpoints[0]?.attempts).toBe(attempts);
  });

  it('a server refusal counts as unreachable', async () => {
    tiny = new TinyServer(() => refusal(new ServerBusyError('busy')));
    await tiny.listen();
    await using client = createClient({ connect: `unix:${tiny.path}`, minWorkers: 0 });
    const error = (await client
      .checkout({ timeout: null, waitForServer: 0 })
      .catch((e: unknown) => e)) as Seen;
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain('(SERVER_BUSY: busy; 1 attempt)');
  });

  it('is checked', async () => {
    await using client = createClient({ connect: missingSocket(), minWorkers: 0 });
    await expect(client.checkout({ waitForServer: -1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('waitForServer'),
    });
  });
});
