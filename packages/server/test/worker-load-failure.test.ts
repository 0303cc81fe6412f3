/**
 * Worker code that cannot load. A first worker that cannot load its code fails
 * `listen()` and `forkTaskServer()` with WORKER_START_FAILED, the load error as `cause`,
 * and nothing left running; a worker that later fails to start is counted, published,
 * refused to waiting connections, and backs off.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isTaskpoolError } from '@taskpool/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { builtServer, eventually, fixture, marked } from './helpers/processes.js';
import { RawClient } from './helpers/raw-client.js';

const scratch = mkdtempSync(join(tmpdir(), 'taskpool-load-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let serial = 0;
/** A fresh socket path, and a mark put in the environment of every process a test starts. */
function fresh(): { path: string; mark: string } {
  serial++;
  return { path: join(scratch, `s${serial}.sock`), mark: `${process.pid}-${serial}-${Date.now()}` };
}

interface LoadError extends Error {
  code: string;
  cause?: Error & { code?: string };
}

const breakFile = join(scratch, 'broken');
const sourceFixture = fileURLToPath(new URL('./fixtures/echo-worker.ts', import.meta.url));

/**
 * Lines written to this process's stderr while `fn` runs: those naming WORKER_START_FAILED
 * (which the tests provoke) are kept out of the run's output, the others pass through.
 */
async function capturingStartFailureLines<T>(fn: (written: string[]) => Promise<T>): Promise<T> {
  const written: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    written.push(String(chunk));
    if (String(chunk).includes('WORKER_START_FAILED')) return true;
    return write.call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    return await fn(written);
  } finally {
    process.stderr.write = write;
  }
}

/** An in-process server of the breakable worker, which fails to load while `breakFile` says so. */
function breakableServer(endpoint: string, mark: string) {
  return builtServer.createServer({
    listen: endpoint,
    workerModule: fixture('breakable-worker.ts'),
    spares: 1,
    handleSignals: false,
    execArgv: [],
    env: { ...process.env, TASKPOOL_TEST_MARK: mark, TASKPOOL_TEST_BREAK_FILE: breakFile },
  });
}

const cases: {
  name: string;
  module: () => URL | string;
  message: RegExp;
  cause: { name: string; code?: string; message: RegExp; stack?: string };
}[] = [
  {
    name: 'a missing module',
    module: () => join(scratch, 'no-such-worker.mjs'),
    message:
      /^worker code \S+no-such-worker\.mjs cannot load: Error \[ERR_MODULE_NOT_FOUND\]: Cannot find module/,
    cause: { name: 'Error', code: 'ERR_MODULE_NOT_FOUND', message: /no-such-worker\.mjs/ },
  },
  {
    name: 'a module that throws at import',
    module: () => {
      writeFileSync(breakFile, 'always');
      return fixture('breakable-worker.ts');
    },
    message:
      /^worker code \S+breakable-worker\.mjs cannot load: TypeError: BROKEN AT IMPORT: always$/,
    cause: {
      name: 'TypeError',
      message: /^BROKEN AT IMPORT: always$/,
      stack: 'breakable-worker',
    },
  },
  {
    name: 'a module without a default export',
    module: () => fixture('no-default-worker.ts'),
    message:
      /cannot load: TypeError: worker module \S+: expected a default export \{ interface, setup\?, checkoutDone\?, authorize\? \} \(see defineWorker\), received a module with no default export \(its exports: echo, version\)$/,
    cause: { name: 'TypeError', message: /received a module with no default export/ },
  },
  {
    name: 'a default export that is not a worker definition',
    module: () => fixture('not-a-worker.ts'),
    message: /received a default export with no interface \(its keys: handlers\)$/,
    cause: { name: 'TypeError', message: /no interface/ },
  },
  {
    name: 'a TypeScript module without a loader',
    module: () => sourceFixture,
    message:
      /^worker code \S+echo-worker\.ts cannot load: TypeError \[ERR_UNKNOWN_FILE_EXTENSION\]: Unknown file extension "\.ts".* \(a TypeScript module needs a loader in execArgv, such as --import tsx, or a build to JavaScript\)$/,
    cause: { name: 'TypeError', code: 'ERR_UNKNOWN_FILE_EXTENSION', message: /\.ts/ },
  },
];

describe('forkTaskServer with worker code that cannot load', () => {
  it.each(cases)(
    'rejects for $name with WORKER_START_FAILED, leaving nothing running',
    async ({ module, message, cause }) => {
      const { path, mark } = fresh();
      const error = (await builtServer
        .forkTaskServer({
          module: module(),
          listen: `unix:${path}`,
          execArgv: [],
          spares: 2,
          env: { ...process.env, TASKPOOL_TEST_MARK: mark, TASKPOOL_TEST_BREAK_FILE: breakFile },
        })
        .then(
          () => {
            throw new Error('forkTaskServer resolved');
          },
          (thrown: unknown) => thrown,
        )) as LoadError;
      rmSync(breakFile, { force: true });
      expect(isTaskpoolError(error)).toBe(true);
      expect(error).toMatchObject({ code: 'WORKER_START_FAILED', name: 'WorkerStartFailedError' });
      expect(error.message).toMatch(message);
      expect(error.cause?.name).toBe(cause.name);
      expect(error.cause?.message).toMatch(cause.message);
      if (cause.code) expect(error.cause?.code).toBe(cause.code);
      expect(error.cause?.stack).toMatch(/\n\s+at /);
      if (cause.stack) expect(error.cause?.stack).toContain(cause.stack);
      expect(existsSync(path)).toBe(false);
      expect(marked(mark)).toEqual([]);
    },
  );
});

describe('server.listen() with worker code that cannot load', () => {
  it('rejects with WORKER_START_FAILED, stops everything, and may be called again once the code loads', async () => {
    const { path, mark } = fresh();
    const module = join(scratch, 'written-later.mjs');
    await using server = builtServer.createServer({
      listen: `unix:${path}`,
      workerModule: pathToFileURL(module),
      spares: 2,
      handleSignals: false,
      execArgv: [],
      env: { ...process.env, TASKPOOL_TEST_MARK: mark },
    });
    const error = (await server.listen().catch((thrown: unknown) => thrown)) as LoadError;
    expect(error).toMatchObject({ code: 'WORKER_START_FAILED' });
    expect(error.message).toContain(`worker code ${module} cannot load`);
    expect(error.cause).toMatchObject({ name: 'Error', code: 'ERR_MODULE_NOT_FOUND' });
    expect(existsSync(path)).toBe(false);
    expect(marked(mark)).toEqual([]);
    expect(server.stats()).toMatchObject({ starting: 0, spares: 0, startFailures: 1 });

    writeFileSync(module, 'export default { interface: { ping: () => "pong" } };\n');
    const endpoint = await server.listen();
    await using client = await RawClient.connect(`unix:${(endpoint as { path: string }).path}`);
    expect(await client.value('ping')).toBe('pong');
  });
});

describe('server.listen() with worker code that exits or blocks while it loads', () => {
  it('rejects for code that exits with code 0 at import, which counts as a failed start', async () => {
    const { path, mark } = fresh();
    await using server = builtServer.createServer({
      listen: `unix:${path}`,
      workerModule: fixture('exits-at-import-worker.ts'),
      spares: 1,
      handleSignals: false,
      execArgv: [],
      env: { ...process.env, TASKPOOL_TEST_MARK: mark },
    });
    const error = (await server.listen().catch((thrown: unknown) => thrown)) as LoadError;
    expect(error).toMatchObject({ code: 'WORKER_START_FAILED', name: 'WorkerStartFailedError' });
    expect(error.message).toMatch(
      /^worker code \S+exits-at-import-worker\.mjs did not start: a worker exited with code 0 before it was ready$/,
    );
    expect(error.cause).toBeUndefined();
    expect(server.stats()).toMatchObject({ starting: 0, spares: 0, startFailures: 1 });
    expect(existsSync(path)).toBe(false);
    expect(marked(mark)).toEqual([]);
  });

  it('rejects for code that blocks at import with setupTimeout null: loading still has its limit', async () => {
    const { path, mark } = fresh();
    await using server = builtServer.createServer({
      listen: `unix:${path}`,
      workerModule: fixture('blocks-at-import-worker.ts'),
      spares: 1,
      setupTimeout: null,
      handleSignals: false,
      execArgv: [],
      env: { ...process.env, TASKPOOL_TEST_MARK: mark },
    });
    const error = (await server.listen().catch((thrown: unknown) => thrown)) as LoadError;
    expect(error).toMatchObject({ code: 'WORKER_START_FAILED' });
    expect(error.message).toMatch(
      /^worker code \S+blocks-at-import-worker\.mjs did not start: a worker was killed: its code had not loaded 10000 ms after it was started \(with setupTimeout null only setup has no limit\)$/,
    );
    expect(existsSync(path)).toBe(false);
    expect(marked(mark)).toEqual([]);
  }, 60_000);

  it('makes a listen() called while a failed one still stops its workers wait for it, rather than start workers it would kill', async () => {
    const { path, mark } = fresh();
    const claims = mkdtempSync(join(scratch, 'claims-'));
    const endpoint = `unix:${path}`;
    await using server = builtServer.createServer({
      listen: endpoint,
      workerModule: fixture('claim-worker.ts'),
      spares: 2,
      handleSignals: false,
      execArgv: [],
      env: { ...process.env, TASKPOOL_TEST_MARK: mark, TASKPOOL_TEST_CLAIM_DIR: claims },
    });
    let retried: Promise<unknown> | undefined;
    const onFailed = (message: unknown) => {
      if ((message as { endpoint: string }).endpoint !== endpoint) return;
      // Published as the first worker fails; by the next turn listen() has begun to stop
      // the other worker, which ignores SIGTERM: it is stopped a second later, by SIGKILL.
      setImmediate(() => {
        retried ??= server.listen().catch((thrown: unknown) => thrown);
      });
    };
    subscribe('taskpool:server:worker-start-failed', onFailed);
    try {
      const error = (await server.listen().catch((thrown: unknown) => thrown)) as LoadError;
      expect(error).toMatchObject({ code: 'WORKER_START_FAILED' });
      expect(error.message).toMatch(/THE FIRST WORKER FAILS AT IMPORT$/);
      await eventually(() => retried !== undefined, 10_000, 'the retried listen()');
      // The retry got the failing listen(), instead of starting workers of its own.
      expect(await retried).toBe(error);
      expect(server.stats()).toMatchObject({ spawned: 2, starting: 0, spares: 0 });
      expect(marked(mark)).toEqual([]);
    } finally {
      unsubscribe('taskpool:server:worker-start-failed', onFailed);
    }
  });
});

describe('workers that later fail to start', () => {
  it('count one that exits with code 0 before it is ready, and back off', async () => {
    const { path, mark } = fresh();
    const endpoint = `unix:${path}`;
    const failed: { consecutiveFailures: number; retryIn: number; error: LoadError }[] = [];
    const onFailed = (message: unknown) => {
      const event = message as (typeof failed)[number] & { endpoint: string };
      if (event.endpoint === endpoint) failed.push(event);
    };
    subscribe('taskpool:server:worker-start-failed', onFailed);
    const server = breakableServer(endpoint, mark);
    await capturingStartFailureLines(async () => {
      try {
        await server.listen();
        writeFileSync(breakFile, 'exit 0');
        server.restart();
        await eventually(() => failed.length >= 3, 20_000, 'three start failures');
        expect(failed.slice(0, 3).map((event) => event.consecutiveFailures)).toEqual([1, 2, 3]);
        expect(failed.slice(0, 3).map((event) => event.retryIn)).toEqual([100, 200, 400]);
        expect(failed[0]?.error.message).toMatch(
          /did not start: a worker exited with code 0 before it was ready$/,
        );
        expect(server.stats()).toMatchObject({ startFailures: failed.length });
      } finally {
        unsubscribe('taskpool:server:worker-start-failed', onFailed);
        await server.close({ timeout: 1_000 });
        rmSync(breakFile, { force: true });
      }
    });
    expect(marked(mark)).toEqual([]);
  }, 60_000);

  it('are counted, published, refused to waiting connections, and back off until one is ready', async () => {
    const { path, mark } = fresh();
    const failed: {
      endpoint: string;
      consecutiveFailures: number;
      retryIn: number;
      error: LoadError;
    }[] = [];
    const recovered: { endpoint: string; failures: number }[] = [];
    const endpoint = `unix:${path}`;
    const onFailed = (message: unknown) => {
      const event = message as (typeof failed)[number];
      if (event.endpoint === endpoint) failed.push(event);
    };
    const onRecovered = (message: unknown) => {
      const event = message as (typeof recovered)[number];
      if (event.endpoint === endpoint) recovered.push(event);
    };
    subscribe('taskpool:server:worker-start-failed', onFailed);
    subscribe('taskpool:server:worker-start-recovered', onRecovered);
    const server = breakableServer(endpoint, mark);
    await capturingStartFailureLines(async (written) => {
      try {
        await server.listen();
        expect(server.stats()).toMatchObject({ startFailures: 0, lastStartError: null });

        // The code on disk breaks, and a rolling restart loads it.
        writeFileSync(breakFile, 'bad deploy');
        server.restart();
        await eventually(() => failed.length >= 1, 10_000, 'a first start failure');
        const waiting = await RawClient.connect(endpoint, { hello: false });
        expect(await waiting.next(20_000)).toMatchObject({
          type: 'error',
          id: 0,
          error: {
            code: 'WORKER_START_FAILED',
            message: expect.stringMatching(
              /^worker code \S+breakable-worker\.mjs cannot load: TypeError: BROKEN AT IMPORT: bad deploy$/,
            ),
          },
        });
        await waiting.closed;

        await eventually(() => failed.length >= 5, 20_000, 'five start failures');
        // Each attempt waits twice as long as the one before: the crash loop backs off.
        expect(failed.slice(0, 5).map((event) => event.consecutiveFailures)).toEqual([
          1, 2, 3, 4, 5,
        ]);
        expect(failed.slice(0, 5).map((event) => event.retryIn)).toEqual([
          100, 200, 400, 800, 1_600,
        ]);
        expect(failed[0]?.error).toMatchObject({ code: 'WORKER_START_FAILED' });
        expect(failed[0]?.error.cause).toMatchObject({
          name: 'TypeError',
          message: 'BROKEN AT IMPORT: bad deploy',
        });
        expect(failed[0]?.error.cause?.stack).toContain('breakable-worker');
        const stats = server.stats();
        expect(stats.startFailures).toBe(failed.length);
        expect(stats.consecutiveStartFailures).toBe(failed.length);
        expect(stats.lastStartError).toMatch(/BROKEN AT IMPORT: bad deploy$/);
        // One line for this kind of failure, not a stack per crashed worker.
        expect(written.filter((line) => line.includes('WORKER_START_FAILED'))).toHaveLength(1);

        // The code is fixed: the next attempt starts, and resets the backoff.
        rmSync(breakFile);
        await eventually(() => recovered.length === 1, 20_000, 'a worker ready again');
        expect(recovered[0]?.failures).toBe(failed.length);
        expect(server.stats()).toMatchObject({ consecutiveStartFailures: 0 });
        await using client = await RawClient.connect(endpoint);
        expect(await client.value('echo', ['back'])).toEqual(['back']);

        const before = failed.length;
        writeFileSync(breakFile, 'bad again');
        server.restart();
        await eventually(() => failed.length > before, 10_000, 'a start failure after recovery');
        expect(failed[before]).toMatchObject({ consecutiveFailures: 1, retryIn: 100 });
        expect(written.filter((line) => line.includes('WORKER_START_FAILED'))).toHaveLength(2);
      } finally {
        unsubscribe('taskpool:server:worker-start-failed', onFailed);
        unsubscribe('taskpool:server:worker-start-recovered', onRecovered);
        await server.close({ timeout: 1_000 });
        rmSync(breakFile, { force: true });
      }
    });
    expect(marked(mark)).toEqual([]);
  }, 60_000);
});
