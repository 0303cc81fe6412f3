import { fork, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { socketPath as privateSocketPath } from '../../../test/helpers/sockets.js';
import {
  builtServer,
  childrenOf,
  eventually,
  fixture,
  isAlive,
  startServer,
} from './helpers/processes.js';
import { RawClient } from './helpers/raw-client.js';

/** A socket file whose server died without removing it (SIGKILL). */
async function leaveStaleSocket(path: string): Promise<void> {
  const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.send('up'))`;
  const child = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise((resolve) => child.once('message', resolve));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
}

function socketPath(name: string): string {
  return privateSocketPath(`${name}-${Date.now()}.sock`);
}

describe('setup and checkoutDone', () => {
  it('reports a setup failure to the first call, and retries setup on the next', async () => {
    await using server = await startServer('setup-fails-worker.ts');
    await using client = await RawClient.connect(server.endpoint);
    const first = await client.call('attempts');
    expect(first).toMatchObject({
      type: 'error',
      error: { code: 'SETUP_FAILED', message: 'setup exception: SETUP EXCEPTION 1' },
    });
    expect(first.log?.logs?.map((line) => line.slice(1))).toEqual([[30, 'setup attempt', 1]]);
    expect(await client.value('attempts')).toBe(2);
    expect(await client.value('attempts')).toBe(2);
  });

  it('runs checkoutDone on done, and exits when it throws, saying why on stderr', async () => {
    await using server = await startServer('checkout-done-worker.ts', { stderr: 'pipe' });
    let stderr = '';
    server.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await using client = await RawClient.connect(server.endpoint);
    client.send({ type: 'done' });
    expect(await client.value('released')).toBe(1);
    client.send({ type: 'done' });
    expect(await client.value('released')).toBe(2);
    const pid = client.hello.pid;
    await client.value('failNextRelease');
    client.send({ type: 'done' });
    await client.closed;
    await eventually(() => !isAlive(pid), 5_000, 'worker exit');
    await eventually(() => stderr.includes('checkoutDone failed on purpose'), 5_000, 'stderr');
    expect(stderr).toContain(`(pid ${pid}): checkoutDone threw, exiting`);
  });

  it('retires a worker after maxRequestsPerWorker calls, once released', async () => {
    await using server = await startServer('echo-worker.ts', { maxRequestsPerWorker: 2 });
    await using client = await RawClient.connect(server.endpoint);
    await client.value('count');
    await client.value('count');
    expect(await client.value('count')).toBe(3);
    client.send({ type: 'done' });
    expect(await client.next()).toEqual({ type: 'retire', reason: 'maxRequestsPerWorker' });
    const pid = client.hello.pid;
    await client.close();
    await eventually(() => !isAlive(pid), 5_000, 'retired worker exit');
  });

  it('says retire after the checkout that reached maxRequestsPerWorker, before the checkouts queued behind it', async () => {
    await using server = await startServer('echo-worker.ts', { maxRequestsPerWorker: 2 });
    await using client = await RawClient.connect(server.endpoint);
    // Four one-call checkouts at once, as a client pipelines one-shot calls: call, done, ...
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(client.sendCall('echo', [i]));
      client.send({ type: 'done' });
    }
    const seen: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      const message = await client.next();
      seen.push(message.type === 'result' ? message.id : message);
    }
    // The retire comes as soon as the second checkout has ended; the ones already queued
    // are still served.
    expect(seen).toEqual([
      ids[0],
      ids[1],
      { type: 'retire', reason: 'maxRequestsPerWorker' },
      ids[2],
      ids[3],
    ]);
  });
});

describe('faults', () => {
  it('a worker killed with SIGKILL mid-call drops its connection only, and is reaped', async () => {
    await using server = await startServer('echo-worker.ts', { spares: 2 });
    await using victim = await RawClient.connect(server.endpoint);
    await using other = await RawClient.connect(server.endpoint);
    victim.sendCall('sleep', [5_000]);
    process.kill(victim.hello.pid, 'SIGKILL');
    await victim.closed;
    expect(await other.value('echo', ['alive'])).toEqual(['alive']);
    await eventually(
      () => !childrenOf(server.pid).some((child) => child.pid === victim.hello.pid),
      5_000,
      'reaping',
    );
    expect(childrenOf(server.pid).filter((child) => child.state === 'Z')).toEqual([]);
  });

  it('a worker whose client leaves mid-call exits as soon as its handler returns', async () => {
    await using server = await startServer('echo-worker.ts');
    const client = await RawClient.connect(server.endpoint);
    const pid = client.hello.pid;
    client.sendCall('block', [600]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const left = Date.now();
    client.socket.destroy();
    await eventually(() => !isAlive(pid), 5_000, 'worker exit');
    expect(Date.now() - left).toBeGreaterThan(200);
    await using next = await RawClient.connect(server.endpoint);
    expect(await next.value('echo', [1])).toEqual([1]);
  });

  it('an idle worker whose client leaves exits at once', async () => {
    await using server = await startServer('echo-worker.ts');
    const client = await RawClient.connect(server.endpoint);
    client.socket.destroy();
    await eventually(() => !isAlive(client.hello.pid), 5_000, 'worker exit');
  });

  it('kills a worker whose event loop stays blocked past hungWorkerTimeout, never an idle one', async () => {
    await using server = await startServer('echo-worker.ts', { hungWorkerTimeout: 300, spares: 2 });
    await using idle = await RawClient.connect(server.endpoint);
    await using hung = await RawClient.connect(server.endpoint);
    const started = Date.now();
    hung.sendCall('block', [5_000]);
    await hung.closed;
    expect(Date.now() - started).toBeLessThan(4_000);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await idle.value('echo', ['idle survives'])).toEqual(['idle survives']);
    // A slow but yielding handler is not hung.
    expect(await idle.value('sleep', [700])).toBe(700);
  });

  it('leaves no zombie and no descriptor behind after many connections', async () => {
    await using server = await startServer('echo-worker.ts', { spares: 2 });
    const { fdCount } = await import('./helpers/processes.js');
    const warm = await RawClient.connect(server.endpoint);
    await warm.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = fdCount(server.pid);
    // Each connection costs a worker process (about 0.1 s here): a leak of one descriptor
    // or zombie per connection shows in 100 as in 500, which `npm run test:long` runs.
    const count = Number(process.env.TASKPOOL_CONNECTION_RUNS ?? 100);
    for (let i = 0; i < count; i += 5) {
      await Promise.all(
        Array.from({ length: 5 }, async () => {
          const client = await RawClient.connect(server.endpoint);
          await client.value('count');
          await client.close();
        }),
      );
    }
    await eventually(() => fdCount(server.pid) <= before, 10_000, `fd count back to ${before}`);
    await eventually(
      () => childrenOf(server.pid).filter((child) => child.state === 'Z').length === 0,
      5_000,
      'no zombies',
    );
    expect(childrenOf(server.pid).length).toBeLessThanOrEqual(2);
  }, 300_000);
});

describe('capacity', () => {
  it('refuses a connection beyond maxWorkers with SERVER_BUSY after connectionTimeout', async () => {
    await using server = await startServer('echo-worker.ts', {
      maxWorkers: 1,
      spares: 1,
      connectionTimeout: 300,
    });
    await using first = await RawClient.connect(server.endpoint);
    const second = await RawClient.connect(server.endpoint, { hello: false });
    expect(await second.next()).toMatchObject({
      type: 'error',
      id: 0,
      error: { code: 'SERVER_BUSY' },
    });
    await second.closed;
    expect(await first.value('echo', [1])).toEqual([1]);
  });

  it('serves a waiting connection as soon as a worker slot frees', async () => {
    await using server = await startServer('echo-worker.ts', {
      maxWorkers: 1,
      spares: 1,
      connectionTimeout: 5_000,
    });
    const first = await RawClient.connect(server.endpoint);
    const waiting = RawClient.connect(server.endpoint);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await first.close();
    const second = await waiting;
    expect(second.hello.pid).not.toBe(first.hello.pid);
    expect(await second.value('echo', [2])).toEqual([2]);
    await second.close();
  });
});

describe('lifecycle', () => {
  it('creates the Unix socket with mode 0600 and unlinks it on close', async () => {
    const path = socketPath('mode');
    const server = await startServer('echo-worker.ts', { listen: `unix:${path}` });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await server.close();
    expect(existsSync(path)).toBe(false);
  });

  it('replaces a stale socket file, and refuses a path a live server listens on', async () => {
    const path = socketPath('stale');
    await leaveStaleSocket(path);
    expect(statSync(path).isSocket()).toBe(true);
    await using server = await startServer('echo-worker.ts', { listen: `unix:${path}` });
    await using client = await RawClient.connect(server.endpoint);
    expect(await client.value('echo', [1])).toEqual([1]);
    await expect(startServer('echo-worker.ts', { listen: `unix:${path}` })).rejects.toThrow(
      `forkTaskServer: option listen: expected a free socket path, not one where a server already listens, received "unix:${path}" (a string)`,
    );
  });

  it('refuses to listen where a file that is not a socket is, and leaves it there', async () => {
    const path = socketPath('regular');
    writeFileSync(path, 'precious');
    await expect(startServer('echo-worker.ts', { listen: `unix:${path}` })).rejects.toThrow(
      `forkTaskServer: option listen: expected a free socket path, not a regular file (it is left as it is: remove it, or listen elsewhere), received "unix:${path}" (a string)`,
    );
    expect(readFileSync(path, 'utf8')).toBe('precious');
    rmSync(path);
  });

  it('listens on TCP, port 0 picking a free port', async () => {
    await using server = await startServer('echo-worker.ts', { listen: 'tcp://127.0.0.1:0' });
    expect(server.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(server.endpoint).not.toMatch(/:0$/);
    await using client = await RawClient.connect(server.endpoint);
    expect(await client.value('echo', ['tcp'])).toEqual(['tcp']);
  });

  it('closes gracefully: a busy worker finishes its call before the deadline', async () => {
    const server = await startServer('echo-worker.ts');
    const client = await RawClient.connect(server.endpoint);
    const id = client.sendCall('sleep', [300]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closing = server.close({ timeout: 5_000 });
    expect(await client.next()).toMatchObject({ type: 'result', id, value: 300 });
    expect(await client.next()).toMatchObject({ type: 'retire' });
    await client.close();
    await closing;
    expect(isAlive(server.pid)).toBe(false);
  });

  it('closes by force after the deadline: TERM, then KILL', async () => {
    const server = await startServer('echo-worker.ts');
    const client = await RawClient.connect(server.endpoint);
    client.sendCall('block', [60_000]);
    const started = Date.now();
    await server.close({ timeout: 300 });
    await client.closed;
    expect(Date.now() - started).toBeLessThan(8_000);
    await eventually(() => !isAlive(client.hello.pid), 5_000, 'worker killed');
  });

  it('restarts onto fresh workers on SIGHUP: idle serving workers retire, new connections get new workers', async () => {
    await using server = await startServer('echo-worker.ts', { spares: 1 });
    await using old = await RawClient.connect(server.endpoint);
    process.kill(server.pid, 'SIGHUP');
    expect(await old.next()).toEqual({ type: 'retire', reason: 'restart' });
    expect(await old.value('echo', ['still serving until released'])).toEqual([
      'still serving until released',
    ]);
    await using fresh = await RawClient.connect(server.endpoint);
    expect(fresh.hello.worker).toBeGreaterThan(old.hello.worker + 1);
  });

  it('closes when the process that forked it exits, and unlinks its socket', async () => {
    const path = socketPath('orphan');
    const parent = fork(
      fileURLToPathSafe(new URL('./fixtures/fork-then-exit.mjs', import.meta.url)),
      [path, fixture('echo-worker.ts').href, new URL('../dist/index.js', import.meta.url).href],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    const serverPid = await new Promise<number>((resolve) =>
      parent.once('message', (m: { pid: number }) => resolve(m.pid)),
    );
    expect(existsSync(path)).toBe(true);
    parent.send('exit');
    await new Promise((resolve) => parent.once('close', resolve));
    await eventually(() => !isAlive(serverPid), 10_000, 'server exit');
    expect(existsSync(path)).toBe(false);
  });

  it('runs a single-file server: workers re-execute the script, with process titles', async () => {
    const path = socketPath('single');
    const supervisor = fork(fixture('single-file-server.ts'), [], {
      env: { ...process.env, TEST_SOCKET: `unix:${path}` },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = await new Promise<{ worker: boolean }>((resolve) =>
      supervisor.once('message', resolve),
    );
    expect(ready.worker).toBe(false);
    try {
      await using client = await RawClient.connect(`unix:${path}`);
      const who = (await client.value('whoami')) as {
        pid: number;
        worker: boolean;
        setup: string;
        title: string;
      };
      expect(who).toMatchObject({
        pid: client.hello.pid,
        worker: true,
        setup: 'yes',
        title: `taskpool-worker:single-file(${client.hello.worker})`,
      });
      expect(who.pid).not.toBe(supervisor.pid);
    } finally {
      supervisor.kill('SIGTERM');
      await new Promise((resolve) => supervisor.once('close', resolve));
    }
    expect(existsSync(path)).toBe(false);
  });

  it('validates options with messages that say what was expected and what came', () => {
    expect(() =>
      builtServer.createServer({ listen: 'unix:/tmp/x.sock', interface: {}, spares: -1 }),
    ).toThrow('createServer: option spares: expected an integer >= 0, received -1');
    expect(() => builtServer.createServer({ listen: 'http://x', interface: {} })).toThrow(
      /^createServer: option listen: expected an endpoint \(unix:\/path, .*received "http:\/\/x" \(a string\)$/,
    );
    expect(() => builtServer.createServer({ listen: 'unix:/tmp/x.sock' })).toThrow(
      /option interface: expected/,
    );
    expect(() =>
      builtServer.createServer({
        listen: 'unix:/tmp/x.sock',
        interface: {},
        hungWorkerTimeout: 0.5,
      }),
    ).toThrow(/hungWorkerTimeout/);
  });
});

function fileURLToPathSafe(url: URL): string {
  return decodeURIComponent(url.pathname);
}

describe('abandoned calls', () => {
  it('a worker whose client left exits within a second even if its handler ignores the signal', async () => {
    await using server = await startServer('echo-worker.ts');
    const client = await RawClient.connect(server.endpoint);
    const pid = client.hello.pid;
    client.sendCall('sleep', [10_000]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.socket.destroy();
    await eventually(() => !isAlive(pid), 5_000, 'worker exit');
  });
});
