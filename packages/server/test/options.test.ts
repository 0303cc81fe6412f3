/**
 * Server options are checked by the shared option checker (no zod: every worker runs
 * createServer too): one message form, unknown options refused with the nearest known name,
 * INVALID_OPTION from createServer and forkTaskServer alike.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_FRAME_BYTES, InvalidOptionError, MAX_TIMER_MS } from '@taskpool/protocol';
import { createServer, forkTaskServer } from '@taskpool/server';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveServerOptions, type ServerOptions } from '../src/options.js';
import { expectBadCloseOptionsRefused } from './helpers/close-options.js';

const base = { listen: 'unix:/tmp/x.sock', interface: {} };

/** The message of what `fn` throws, checking that it is an INVALID_OPTION. */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).code).toBe('INVALID_OPTION');
    return (error as Error).message;
  }
  throw new Error('did not throw');
}

const resolve = (input: unknown) => resolveServerOptions(input as ServerOptions);

describe('server options', () => {
  it('fill in the documented defaults', () => {
    expect(resolve(base)).toStrictEqual({
      listen: 'unix:/tmp/x.sock',
      interface: {},
      setup: undefined,
      checkoutDone: undefined,
      workerModule: undefined,
      name: undefined,
      spares: 2,
      maxWorkers: 64,
      connectionTimeout: 10_000,
      maxRequestsPerWorker: null,
      spawnInterval: 0,
      hungWorkerTimeout: 300_000,
      setupTimeout: 60_000,
      maxQueuedCalls: 1_024,
      frameTimeout: 30_000,
      socketMode: 0o600,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      execArgv: undefined,
      env: undefined,
      handleSignals: true,
      tls: undefined,
      auth: undefined,
      insecure: false,
      handshakeTimeout: 5_000,
      errorStacks: 'trusted',
      maxWaitingConnections: 1_024,
      maxConnectionsPerPeer: null,
      authorize: undefined,
      logger: undefined,
      metrics: true,
      metricsPort: null,
      metricsHost: '127.0.0.1',
      registry: undefined,
      advertise: undefined,
    });
  });

  it('say which option, what was expected and what came', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ spares: -1 }, 'option spares: expected an integer >= 0, received -1'],
      [
        { auth: { keys: {} } },
        "option auth.keys: expected an object of key id → secret (a string, bytes, { env: 'NAME' } or { file: '/path' }), with at least one key, received an object",
      ],
      [
        { tls: { key: 'k' } },
        "option tls.cert: expected a string, bytes, { env: 'NAME' } or { file: '/path' }, received nothing",
      ],
      [
        { errorStacks: 'sometimes' },
        'option errorStacks: expected "trusted", "always" or "never", received "sometimes" (a string)',
      ],
      [{ maxWorkers: 1.5 }, 'option maxWorkers: expected an integer >= 1, received 1.5'],
      [
        { hungWorkerTimeout: 2 ** 31 },
        'option hungWorkerTimeout: expected a number of milliseconds from 1 to 2147483647, or null for no limit, received 2147483648',
      ],
      [
        { connectionTimeout: '10s' },
        'option connectionTimeout: expected a number of milliseconds from 0 to 2147483647, received "10s" (a string)',
      ],
      [
        { socketMode: 0o1000 },
        'option socketMode: expected an integer from 0 to 511, received 512',
      ],
      [
        { execArgv: ['--x', 2] },
        'option execArgv: expected an array of strings, received an array of 2 items',
      ],
      [{ env: { A: 1 } }, 'option env: expected an object of strings, received an object'],
      [
        { workerModule: '' },
        'option workerModule: expected a module path or file URL, received "" (a string)',
      ],
      [
        { handleSignals: 'no' },
        'option handleSignals: expected true or false, received "no" (a string)',
      ],
      [{ setup: 5 }, 'option setup: expected a function, received 5'],
    ];
    for (const [bad, message] of cases) {
      expect(messageOf(() => resolve({ ...base, ...bad }))).toBe(`createServer: ${message}`);
    }
    expect(messageOf(() => resolve({ interface: {} }))).toBe(
      'createServer: option listen: expected an endpoint (unix:/path, an absolute path, tcp://host:port or tls://host:port with a port from 0 to 65535, { path } or { host, port }), received nothing',
    );
    expect(messageOf(() => resolve({ listen: 'unix:/tmp/x.sock' }))).toBe(
      'createServer: option interface: expected handlers, an implementation or a function (or a workerModule), received nothing',
    );
  });

  it('refuse unknown options, with the nearest known name', () => {
    expect(messageOf(() => resolve({ ...base, spare: 1 }))).toBe(
      'createServer: unknown option spare (did you mean spares?)',
    );
    expect(messageOf(() => resolve({ ...base, maxWorker: 1 }))).toBe(
      'createServer: unknown option maxWorker (did you mean maxWorkers?)',
    );
    expect(messageOf(() => resolve({ ...base, port: 7000 }))).toBe(
      'createServer: unknown option port',
    );
  });

  it('accept the limits themselves, and copy what the caller could change later', () => {
    const env = { A: 'b', B: undefined };
    const execArgv = ['--x'];
    const resolved = resolve({
      ...base,
      spares: 0,
      hungWorkerTimeout: MAX_TIMER_MS,
      setupTimeout: null,
      spawnInterval: 0,
      socketMode: 0o777,
      env,
      execArgv,
      workerModule: new URL('file:///w.js'),
    });
    expect(resolved).toMatchObject({
      spares: 0,
      hungWorkerTimeout: MAX_TIMER_MS,
      setupTimeout: null,
    });
    expect(resolved.env).toStrictEqual(env);
    expect(resolved.env).not.toBe(env);
    expect(resolved.execArgv).toStrictEqual(execArgv);
    expect(resolved.execArgv).not.toBe(execArgv);
  });

  it('either resolve within their bounds or throw INVALID_OPTION, whatever comes', () => {
    const odd = fc.constantFrom<unknown>(
      undefined,
      null,
      '',
      'x',
      -1,
      0.5,
      2 ** 53,
      Number.NaN,
      true,
      [],
      {},
      () => 1,
    );
    const int = fc.oneof(
      fc.integer({ min: -3, max: 1_000 }),
      fc.constantFrom(MAX_TIMER_MS, MAX_TIMER_MS + 1),
    );
    const field = (valid: fc.Arbitrary<unknown>) =>
      fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: odd });
    const options = fc.record(
      {
        listen: field(fc.constant('unix:/tmp/x.sock')),
        interface: field(fc.constant({})),
        spares: field(int),
        maxWorkers: field(int),
        connectionTimeout: field(int),
        hungWorkerTimeout: field(fc.oneof(int, fc.constant(null))),
        socketMode: field(int),
        handleSignals: field(fc.boolean()),
        spars: odd,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(options, (input) => {
        let resolved: ReturnType<typeof resolve>;
        try {
          resolved = resolve(input);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidOptionError);
          expect((error as Error).message).toMatch(
            /^createServer: (option \w+: expected .*, received .+|unknown option \w+( \(did you mean \w+\?\))?)$/,
          );
          return;
        }
        expect(Number.isInteger(resolved.spares) && resolved.spares >= 0).toBe(true);
        expect(resolved.connectionTimeout).toBeLessThanOrEqual(MAX_TIMER_MS);
        expect(resolved.hungWorkerTimeout ?? 1).toBeGreaterThanOrEqual(1);
        expect(resolved.hungWorkerTimeout ?? 0).toBeLessThanOrEqual(MAX_TIMER_MS);
        expect(resolved.socketMode).toBeLessThanOrEqual(0o777);
      }),
      { numRuns: 500 },
    );
  });

  it('are refused with INVALID_OPTION by createServer and by forkTaskServer, before anything starts', async () => {
    expect(messageOf(() => createServer({ ...base, spare: 1 } as ServerOptions))).toBe(
      'createServer: unknown option spare (did you mean spares?)',
    );
    const fork = forkTaskServer({ module: './worker.js', maxWorker: 2 } as never);
    await expect(fork).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(fork).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: 'forkTaskServer: unknown option maxWorker (did you mean maxWorkers?)',
    });
  });

  it('take a registry only where it can be used, and an advertised endpoint when listening on every address', async () => {
    // A registry that is never asked anything: these are refused before it would be.
    const registry = {
      description: 'a test registry',
      register: () => ({ stop: async () => {} }),
      watch: () => ({ stop: async () => {} }),
    };
    expect(messageOf(() => createServer({ ...base, registry: 'redis://x' as never }))).toBe(
      'createServer: option registry: expected a registry ({ description, register, watch }, such as redisRegistry(…)), received "redis://x" (a string)',
    );
    expect(
      messageOf(() =>
        createServer({ ...base, listen: 'tcp://0.0.0.0:7000', insecure: true, registry }),
      ),
    ).toBe(
      'createServer: option advertise: expected the address clients reach this server at, to announce in its registry (it listens on tcp://0.0.0.0:7000, every address), received nothing',
    );
    expect(
      messageOf(() =>
        createServer({
          ...base,
          listen: 'tcp://127.0.0.1:0',
          registry,
          advertise: 'tcp://[::]:7000',
        }),
      ),
    ).toBe(
      'createServer: option advertise: expected an address and port clients can connect to (not every address, not port 0), received "tcp://[::]:7000" (a string)',
    );
    expect(messageOf(() => createServer({ ...base, advertise: 'tcp://10.0.0.5:7000' }))).toBe(
      'createServer: option advertise: expected a registry to announce it in (option registry), received "tcp://10.0.0.5:7000" (a string)',
    );
    expect(
      messageOf(() =>
        createServer({
          listen: 'unix:/tmp/x.sock',
          workerModule: './worker.js',
          spares: 0,
          registry,
        }),
      ),
    ).toBe(
      'createServer: option spares: expected at least 1 with a registry and a worker module (a loaded worker tells the interface hash announced to clients), received 0',
    );
    await expect(
      forkTaskServer({ module: './worker.js', registry } as never),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining(
        'forkTaskServer: option registry: expected nothing (a registry cannot reach the forked server',
      ),
    });
  });

  it('refuse a missing workerModule where workers have no entry script to re-execute, at createServer', () => {
    // Under node -e there is no entry script: the check must come from createServer, not
    // from a worker spawn, which can run in a timer and throw an uncaught exception there.
    const dist = new URL('../dist/index.js', import.meta.url).href;
    const script = `
      const { createServer } = await import(${JSON.stringify(dist)});
      try {
        createServer(${JSON.stringify(base)});
        console.log('created');
      } catch (error) {
        console.log(error.code + ' ' + error.message);
      }`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(output.trim()).toBe(
      'INVALID_OPTION createServer: option workerModule: expected a worker module when this process has no entry script for workers to re-execute (as under node -e, or in a REPL), received nothing',
    );
  });

  it('name createServer when what is at the listen path is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'taskpool-options-'));
    const path = join(dir, 'taken');
    writeFileSync(path, 'not a socket');
    try {
      const server = createServer({
        ...base,
        listen: `unix:${path}`,
        spares: 0,
        handleSignals: false,
      });
      await expect(server.listen()).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: `createServer: option listen: expected a free socket path, not a regular file (it is left as it is: remove it, or listen elsewhere), received "unix:${path}" (a string)`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('server.close() options', () => {
  it('are checked, and a bad one rejects the promise instead of throwing', async () => {
    const server = createServer({ ...base, handleSignals: false });
    await expectBadCloseOptionsRefused((options) => server.close(options as never));
    await expect(server.close(null as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await server.close({ timeout: 0 });
  });
});
