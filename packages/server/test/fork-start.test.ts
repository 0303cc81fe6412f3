/**
 * forkTaskServer while its server starts: a start timeout stops the server and its workers
 * (nothing is left running, even with stderr piped), a failure the server reports is the
 * one the caller gets, and workers whose server was killed while they loaded exit.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { expectBadCloseOptionsRefused } from './helpers/close-options.js';
import { builtServer, childrenOf, eventually, fixture, marked } from './helpers/processes.js';

const scratch = mkdtempSync(join(tmpdir(), 'taskpool-fork-start-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let serial = 0;
/** A fresh socket path, and a mark put in the environment of every process a test starts. */
function fresh(): { path: string; mark: string } {
  serial++;
  return {
    path: join(scratch, `s${serial}.sock`),
    mark: `${process.pid}-fork-${serial}-${Date.now()}`,
  };
}

/** What a promise rejects with; throws if it resolves. */
function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  return promise.then(
    () => {
      throw new Error('it resolved');
    },
    (thrown: unknown) => thrown as Error & { code?: string },
  );
}

describe('forkTaskServer start', () => {
  it('on its start timeout stops the server and its workers, with stderr piped', async () => {
    const { path, mark } = fresh();
    const error = await rejection(
      builtServer.forkTaskServer({
        module: fixture('blocks-at-import-worker.ts'),
        listen: `unix:${path}`,
        execArgv: [],
        spares: 1,
        startTimeout: 1_000,
        stderr: 'pipe',
        env: { ...process.env, TASKPOOL_TEST_MARK: mark },
      }),
    );
    expect(error).toMatchObject({ code: 'TIMEOUT', name: 'TimeoutError' });
    expect(error.message).toBe('timed out after 1 seconds waiting for the forked server to listen');
    // It rejected once the server had exited, and the server exits once its workers have.
    expect(marked(mark)).toEqual([]);
  });

  it('rejects with the failure the server reported, not with the start timeout that follows', async () => {
    const { path, mark } = fresh();
    // Keeps the server process alive after it reported its failure, until it is killed.
    const keepAlive = join(scratch, 'keep-alive.mjs');
    writeFileSync(keepAlive, 'setInterval(() => {}, 1_000);\n');
    writeFileSync(path, 'not a socket');
    const error = await rejection(
      builtServer.forkTaskServer({
        module: fixture('echo-worker.ts'),
        listen: `unix:${path}`,
        execArgv: ['--import', pathToFileURL(keepAlive).href],
        spares: 1,
        stderr: 'pipe',
        env: { ...process.env, TASKPOOL_TEST_MARK: mark },
      }),
    );
    expect(error).toMatchObject({ code: 'INVALID_OPTION', name: 'InvalidOptionError' });
    expect(error.message).toMatch(/^forkTaskServer: option listen: expected a free socket path/);
    expect(marked(mark)).toEqual([]);
  });

  it('leaves no worker behind when the server is killed while its workers load', async () => {
    const { path, mark } = fresh();
    const loading = join(scratch, `loading-${serial}`);
    const starting = rejection(
      builtServer.forkTaskServer({
        module: fixture('hangs-at-import-worker.ts'),
        listen: `unix:${path}`,
        execArgv: [],
        spares: 1,
        startTimeout: 60_000,
        env: { ...process.env, TASKPOOL_TEST_MARK: mark, TASKPOOL_TEST_LOADING_FILE: loading },
      }),
    );
    // A worker is stuck loading its code; then its server is killed, so it cannot stop it.
    await eventually(() => existsSync(loading), 20_000, 'a worker stuck loading its code');
    const server = childrenOf(process.pid).find((child) => marked(mark).includes(child.pid));
    expect(server).toBeDefined();
    process.kill(server?.pid as number, 'SIGKILL');
    const error = await starting;
    expect(error).toMatchObject({ code: 'CLOSED' });
    expect(error.message).toMatch(/it exited with SIGKILL before listening/);
    await eventually(() => marked(mark).length === 0, 10_000, 'the orphaned worker to exit');
  }, 60_000);
});

describe('a forked server close()', () => {
  it('rejects bad options with INVALID_OPTION instead of throwing, and still closes after', async () => {
    const server = await builtServer.forkTaskServer({
      module: fixture('echo-worker.ts'),
      execArgv: [],
      spares: 1,
    });
    await expectBadCloseOptionsRefused((options) => server.close(options as never));
    await server.close({ timeout: 1_000 });
    expect(childrenOf(process.pid).map((child) => child.pid)).not.toContain(server.pid);
  });
});
