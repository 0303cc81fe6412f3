import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSocketPath, PROTOCOL_VERSION, ServerBusyError } from '@taskpool/protocol';
import { encodeFrame, toWire } from '@taskpool/protocol/internal';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../../test/helpers/ports.js';
import { socketPath } from '../../../test/helpers/sockets.js';
import { node, taskpoolWithInput, taskpoolWithin, waitForLine } from './helpers/run-cli.js';

/** The command line, with the 30 s deadline these tests have always given it. */
const taskpool = (...args: string[]) => taskpoolWithin(30_000, ...args);

const fixture = fileURLToPath(new URL('./fixtures/greeter.ts', import.meta.url));

describe('taskpool command line', () => {
  it('prints usage and exits 0 when asked for help', async () => {
    for (const ask of ['--help', '-h', 'help']) {
      expect(await taskpool(ask)).toMatchObject({
        code: 0,
        stdout: expect.stringContaining('usage:'),
      });
    }
  });

  it('prints help for every command, what it does, endpoints, arguments and exit codes', async () => {
    const help = await taskpool('--help');
    for (const command of ['serve', 'call', 'describe', 'types', 'status', 'bench']) {
      expect(help.stdout).toMatch(new RegExp(`taskpool ${command} `));
    }
    // serve's default: this user's socket, never a fixed name in a shared directory.
    expect(help.stdout).toContain(`unix:${defaultSocketPath()}`);
    expect(help.stdout).not.toContain('unix:/tmp/taskpool.sock');
    for (const option of [
      '--insecure',
      '--tls-key FILE',
      '--tls-cert FILE',
      '--tls-ca FILE',
      '--tls-request-cert',
      '--tls-servername NAME',
      '--auth-key-file FILE',
      '--auth-key-id ID',
      'TASKPOOL_AUTH_KEY',
      '--handshake-timeout MS',
    ]) {
      expect(help.stdout).toContain(option);
    }
    expect(help.stdout).toMatch(/exit codes: 0 .*1 .*2 /s);
    // --help after a command, or with other words, is still help.
    for (const args of [
      ['call', '--help'],
      ['bench', 'unix:/x.sock', 'echo', '-h'],
    ]) {
      expect(await taskpool(...args)).toMatchObject({ code: 0, stdout: help.stdout });
    }
  });

  it('prints its version with --version', async () => {
    const { version } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(await taskpool('--version')).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('prints usage and exits 2 without a command, or with an unknown one', async () => {
    expect(await taskpool()).toMatchObject({ code: 2, stdout: expect.stringContaining('usage:') });
    const unknown = await taskpool('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect((await taskpool('call', 'unix:/tmp/x.sock')).code).toBe(2);
    expect((await taskpool('serve', fixture, '--spares', 'many')).stderr).toContain(
      '--spares: expected a whole number, received "many"',
    );
    expect((await taskpool('describe', 'unix:/tmp/x.sock', '--wait', 'soon')).code).toBe(2);
  });

  it('refuses --timeout 0 as bad usage (exit 2), before any client is made', async () => {
    const zero = await taskpool('call', 'unix:/run/app.sock', 'greet', '--timeout', '0');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain(
      'taskpool: --timeout: expected a whole number from 1 to 2147483647, received "0"',
    );
    expect(zero.stderr).not.toContain('INVALID_OPTION');
  });

  it('fails at once, saying why, when the server cannot be reached', async () => {
    const missing = `unix:${join(tmpdir(), `taskpool-cli-missing-${process.pid}`, 'x.sock')}`;
    const call = await taskpool('call', missing, 'greet', 'world');
    expect(call.code).toBe(1);
    expect(call.stdout).toBe('');
    expect(call.stderr).toBe(
      `taskpool: cannot connect to ${missing}: ENOENT: no such file or directory\n`,
    );
    const described = await taskpool('describe', missing);
    expect(described.code).toBe(1);
    expect(described.stderr).toContain(`cannot connect to ${missing}: ENOENT`);
    const refused = `tcp://127.0.0.1:${await freePort()}`;
    const tcp = await taskpool('call', refused, 'greet', 'world');
    expect(tcp.code).toBe(1);
    expect(tcp.stderr).toContain(`cannot connect to ${refused}: ECONNREFUSED: connection refused`);
    expect(`${call.stderr}${described.stderr}${tcp.stderr}`).not.toContain('timed out');
    // --wait: keeps trying that long, then says the same, with the attempts made. The
    // first retry comes after 200 ms, well within the wait (the second after 1.2 s).
    const waited = await taskpool('call', missing, 'greet', 'world', '--wait', '1000');
    expect(waited.code).toBe(1);
    const said =
      /^taskpool: cannot connect to unix:\S+ ENOENT: no such file or directory \((\d+) attempts\)\n$/.exec(
        waited.stderr,
      );
    expect(said, waited.stderr).not.toBeNull();
    expect(Number(said?.[1])).toBeGreaterThanOrEqual(2);
  });

  it('says a server that refuses the connection as busy is busy, with --wait 0 or more', async () => {
    const socket = socketPath(`cli-busy-${Date.now()}.sock`);
    // What a server whose workers stay busy past its connectionTimeout sends instead of hello.
    const busy = createNetServer((connection) => {
      connection.on('error', () => {});
      // As a server does: what the client sent is read, so that the close is no reset.
      connection.resume();
      connection.end(
        encodeFrame({
          type: 'error',
          id: 0,
          error: toWire(new ServerBusyError('no worker became free within 10000 ms')),
        }),
      );
    });
    await new Promise<void>((resolve) => busy.listen(socket, resolve));
    try {
      const endpoint = `unix:${socket}`;
      const call = await taskpool('call', endpoint, 'greet', 'world');
      expect(call.code).toBe(1);
      expect(call.stderr).toBe(
        `taskpool: the server at ${endpoint} is busy (SERVER_BUSY): no worker became free within 10000 ms\n`,
      );
      const described = await taskpool('describe', endpoint, '--wait', '0');
      expect(described.code).toBe(1);
      expect(described.stderr).toContain(`the server at ${endpoint} is busy (SERVER_BUSY)`);
      expect(described.stderr).not.toContain('timed out');
      const waited = await taskpool('call', endpoint, 'greet', 'world', '--wait', '1000');
      expect(waited.code).toBe(1);
      expect(waited.stderr).toMatch(
        /^taskpool: the server at unix:\S+ is busy \(SERVER_BUSY\): no worker became free within 10000 ms \(\d+ attempts\)\n$/,
      );
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });

  it('serves a worker module, calls and describes it, and stops on SIGTERM', async () => {
    const socket = socketPath(`cli-${Date.now()}.sock`);
    // Started before the server: --wait keeps it trying until the server is up.
    const early = taskpool('call', `unix:${socket}`, 'greet', 'early', '--wait', '25000');
    const server = spawn(
      process.execPath,
      [
        ...node,
        'serve',
        fixture,
        '--listen',
        `unix:${socket}`,
        '--name',
        'greeter',
        '--spares',
        '1',
        '--metrics-port',
        '0',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolve) => server.once('close', resolve));
    try {
      const started = await waitForLine(server, /serving .* on unix:\S+[\s\S]*metrics at \S+\n/);
      expect(started).toContain(socket);
      // --metrics-port 0: a free port, printed, serving the Prometheus text format.
      const metricsUrl = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(
        started,
      )?.[1] as string;
      expect(await (await fetch(metricsUrl)).text()).toContain(
        'taskpool_server_workers{state="spare"}',
      );
      expect(await early).toMatchObject({ code: 0, stdout: '"hello, early"\n' });
      const greeting = await taskpool('call', `unix:${socket}`, 'greet', 'world');
      expect(greeting).toMatchObject({ code: 0 });
      expect(JSON.parse(greeting.stdout)).toBe('hello, world');
      expect(JSON.parse((await taskpool('call', `unix:${socket}`, 'add', '2', '40')).stdout)).toBe(
        42,
      );
      // `-` reads one argument from standard input, as JSON.
      const piped = await taskpoolWithInput(
        JSON.stringify('x'.repeat(200_000)),
        'call',
        `unix:${socket}`,
        'greet',
        '-',
      );
      expect(piped.code).toBe(0);
      expect(JSON.parse(piped.stdout)).toBe(`hello, ${'x'.repeat(200_000)}`);
      const notJson = await taskpoolWithInput('not json', 'call', `unix:${socket}`, 'greet', '-');
      expect(notJson.code).toBe(2);
      expect(notJson.stderr).toContain('-: standard input must be one JSON value');
      const bad = await taskpool('call', `unix:${socket}`, 'add', '"two"', '40');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('INVALID_ARGS');
      const described = JSON.parse((await taskpool('describe', `unix:${socket}`)).stdout);
      expect(described).toMatchObject({
        type: 'hello',
        server: 'greeter',
        protocol: PROTOCOL_VERSION,
      });
      expect(Object.keys(described.interface.methods)).toEqual(['greet', 'add']);
    } finally {
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    expect(existsSync(socket)).toBe(false);
  }, 60_000);
});
