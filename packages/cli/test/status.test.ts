import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@taskpool/client';
import { describe, expect, it } from 'vitest';
import { builtServer, eventually, fixtureOf } from '../../../test/helpers/processes.js';
import { socketPath } from '../../../test/helpers/sockets.js';
import { formatUptime } from '../src/commands/status.js';
import { taskpool } from './helpers/run-cli.js';

const serverVersion = (
  JSON.parse(readFileSync(new URL('../../server/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

let sockets = 0;

/** A server in this process (so that its stats() can be read) serving a fixture. */
async function inProcessServer(module = 'greeter.ts') {
  const path = socketPath(`status-${++sockets}.sock`);
  const server = builtServer.createServer({
    name: 'greeter',
    listen: `unix:${path}`,
    workerModule: fixtureOf('cli', module),
    spares: 1,
    handleSignals: false,
    execArgv: [],
  });
  await server.listen();
  return { server, endpoint: `unix:${path}` };
}

/** Waits until the server has its one spare and nothing else. */
function steady(server: { stats(): { spares: number; starting: number; serving: number } }) {
  return eventually(
    () => {
      const { spares, starting, serving } = server.stats();
      return spares === 1 && starting === 0 && serving === 0;
    },
    10_000,
    'a steady server',
  );
}

describe('taskpool status', () => {
  it("--json: the server's own numbers, its version, uptime and interface", async () => {
    const { server, endpoint } = await inProcessServer();
    await using _server = server;
    await steady(server);
    const { code, stdout, stderr } = await taskpool('status', endpoint, '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    // The command's own connection took the spare, which was replaced; once it has left,
    // the server is as it was, with one more worker spawned.
    await steady(server);
    const now = server.stats();
    expect(report).toMatchObject({
      endpoint,
      server: 'greeter',
      protocol: 4,
      serving: 1,
      waitingConnections: 0,
      spawned: now.spawned,
      killedHung: 0,
      startFailures: 0,
      consecutiveStartFailures: 0,
      lastStartError: null,
      startedAt: now.startedAt,
      version: serverVersion,
      // Over its Unix socket the interface is told; nothing was turned away.
      interfaceWithheld: false,
    });
    expect(report.rejected).toEqual({});
    expect(now.spawned).toBe(2);
    // The replacement spare was starting, or ready, when the command asked.
    expect(report.starting + report.spares).toBe(1);
    expect(report.uptime).toBeGreaterThan(0);
    expect(report.uptime).toBeLessThanOrEqual(now.uptime as number);
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining(['interfaceName', 'interfaceHash', 'startedAt', 'uptime']),
    );
    // The interface as the worker's hello describes it: its hash, or null without one.
    await using client = createClient({ connect: endpoint, minWorkers: 0 });
    await using co = await client.checkout();
    const described = co.worker?.interface ?? {};
    expect(report.interfaceHash).toBe(typeof described.hash === 'string' ? described.hash : null);
    expect(report.interfaceName).toBe(typeof described.name === 'string' ? described.name : null);
  });

  it('prints a table with a row for each number', async () => {
    const { server, endpoint } = await inProcessServer();
    await using _server = server;
    await steady(server);
    const { code, stdout } = await taskpool('status', endpoint);
    expect(code).toBe(0);
    const rows = new Map(
      stdout
        .trimEnd()
        .split('\n')
        .map((line) => {
          const match = /^(\S+(?: \S+)*)\s{2,}(.*)$/.exec(line);
          expect(match, line).not.toBeNull();
          return [match?.[1], match?.[2]] as [string, string];
        }),
    );
    expect([...rows.keys()]).toEqual([
      'endpoint',
      'server',
      'version',
      'protocol',
      'interface',
      'interface hash',
      'uptime',
      'workers starting',
      'workers spare',
      'workers serving',
      'waiting connections',
      'workers spawned',
      'killed as hung',
      'start failures',
      'last start error',
      'rejected',
      'calls',
      'call duration',
      'connection wait',
      'connection serve',
      'workers exited',
    ]);
    expect(rows.get('endpoint')).toBe(endpoint);
    expect(rows.get('server')).toBe('greeter');
    expect(rows.get('version')).toBe(serverVersion);
    expect(rows.get('protocol')).toBe('4');
    expect(rows.get('interface hash')).toMatch(/^(sha256:[0-9a-f]{64}|-)$/);
    expect(rows.get('uptime')).toMatch(/^\d+ (ms|s|m \d\d s) \(since \d{4}-\d\d-\d\dT/);
    expect(rows.get('workers serving')).toBe("1 (one is this command's)");
    expect(Number(rows.get('workers starting')) + Number(rows.get('workers spare'))).toBe(1);
    expect(rows.get('waiting connections')).toBe('0');
    expect(rows.get('workers spawned')).toBe('2');
    expect(rows.get('killed as hung')).toBe('0');
    expect(rows.get('start failures')).toBe('0 (0 in a row)');
    expect(rows.get('last start error')).toBe('-');
    // One row per reason once some were turned away; none yet.
    expect(rows.get('rejected')).toBe('0');
    // What the server measured: this command's own connection waited for its worker.
    expect(rows.get('calls')).toMatch(/^\d+ ok, 0 failed$/);
    expect(rows.get('connection wait')).toMatch(
      /^p50 [\d.e+-]+ ms, p90 [\d.e+-]+ ms, p99 [\d.e+-]+ ms, max [\d.e+-]+ ms \(\d+\)$/,
    );
    expect(rows.get('workers exited')).toMatch(/^(0|[a-z-]+ \d+(, [a-z-]+ \d+)*)$/);
  });

  it('fails with exit 1, saying why, when the server cannot be reached; 2 on bad usage', async () => {
    const missing = `unix:${join(tmpdir(), `taskpool-status-missing-${process.pid}`, 'x.sock')}`;
    const unreachable = await taskpool('status', missing, '--json');
    expect(unreachable).toMatchObject({ code: 1, stdout: '' });
    expect(unreachable.stderr).toBe(
      `taskpool: cannot connect to ${missing}: ENOENT: no such file or directory\n`,
    );
    expect((await taskpool('status')).code).toBe(2);
    const extra = await taskpool('status', missing, 'more');
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('status takes an endpoint');
    const zero = await taskpool('status', missing, '--timeout', '0');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain('--timeout: expected a whole number from 1 to 2147483647');
  });
});

describe('co.serverStats()', () => {
  it("gives the server's stats, beside pipelined calls, and only while the checkout is held", async () => {
    const { server, endpoint } = await inProcessServer();
    await using _server = server;
    await using client = createClient({ connect: endpoint, minWorkers: 0 });
    const co = await client.checkout();
    await eventually(() => server.stats().spares === 1, 10_000, 'a new spare');
    const { uptime, metrics: sent, ...stats } = await co.serverStats();
    // The wire form: the server's own numbers, its metrics included.
    const { uptime: later, metrics, ...now } = server.stats();
    expect(stats).toEqual(now);
    // The workers' call reports may come between the two reads; the connections may not.
    expect(sent?.connectionWait).toEqual(metrics?.connectionWait);
    expect(sent?.workersExited).toEqual(metrics?.workersExited);
    expect(sent?.callDuration).toMatchObject({ count: expect.any(Number) });
    expect(stats).toMatchObject({ serving: 1, spares: 1, version: serverVersion });
    expect(uptime).toBeLessThanOrEqual(later as number);
    // The stats request and the calls share the connection's ids: replies still find
    // their own.
    const [greeting, again, sum] = await Promise.all([
      co.call('greet', ['you']),
      co.serverStats(),
      co.call('add', [1, 2]),
    ]);
    expect(greeting).toBe('hello, you');
    expect(again.serving).toBe(1);
    expect(sum).toBe(3);
    await co.release();
    await expect(co.serverStats()).rejects.toMatchObject({ code: 'CHECKOUT_RELEASED' });
  });
});

describe('co.serverStats() on a worker that does not answer', () => {
  it('times out with the client timeout and poisons the checkout, as a call would', async () => {
    const { server, endpoint } = await inProcessServer('bench-worker.ts');
    await using _server = server;
    await using client = createClient({ connect: endpoint, minWorkers: 0, timeout: 300 });
    const co = await client.checkout();
    const blocking = co.call('block', [1_500], { timeout: 5_000 });
    const started = performance.now();
    await expect(co.serverStats()).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: "timed out after 0.3 seconds waiting for the server's stats",
    });
    expect(performance.now() - started).toBeLessThan(1_400);
    await expect(blocking).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(co.call('echo', [1])).rejects.toMatchObject({ code: 'TIMEOUT' });
    await co.release();
  });
});

describe('formatUptime', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [42_000, '42 s'],
    [185_000, '3 m 05 s'],
    [7_380_000, '2 h 03 m'],
    [352_800_000, '4 d 02 h'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatUptime(ms)).toBe(text);
  });
});
