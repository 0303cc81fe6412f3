import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtServer, fixtureOf } from '../../../test/helpers/processes.js';
import { socketPath } from '../../../test/helpers/sockets.js';
import type { BenchReport } from '../src/bench/report.js';
import { taskpool } from './helpers/run-cli.js';

/** What `--json` prints. */
type Report = BenchReport;

/** Runs bench with --json, expecting exit `code`; returns the report it printed. */
async function bench(code: number, ...args: string[]): Promise<Report> {
  const result = await taskpool('bench', ...args, '--json');
  expect(result.code, result.stderr).toBe(code);
  return JSON.parse(result.stdout) as Report;
}

function expectOrderedLatency({ latencyMs: latency }: Report): void {
  expect(latency.min).toBeGreaterThan(0);
  expect(latency.min).toBeLessThanOrEqual(latency.p50);
  expect(latency.p50).toBeLessThanOrEqual(latency.p90);
  expect(latency.p90).toBeLessThanOrEqual(latency.p99);
  expect(latency.p99).toBeLessThanOrEqual(latency.max);
}

const path = socketPath('bench.sock');
const endpoint = `unix:${path}`;
const server = builtServer.createServer({
  listen: endpoint,
  workerModule: fixtureOf('cli', 'bench-worker.ts'),
  spares: 4,
  handleSignals: false,
  execArgv: [],
});

beforeAll(async () => {
  await server.listen();
});

afterAll(async () => {
  await server.close();
});

describe('taskpool bench', () => {
  it('makes --calls calls on --concurrency lanes, each holding a checkout', async () => {
    const report = await bench(0, endpoint, 'echo', '"x"', '--calls', '500', '--concurrency', '4');
    expect(report).toMatchObject({
      endpoint,
      method: 'echo',
      concurrency: 4,
      checkoutPerCall: false,
      calls: 500,
      ok: 500,
      failed: 0,
      errors: {},
    });
    expect(report.callsPerSecond).toBeGreaterThan(0);
    expect(report.seconds).toBeGreaterThan(0);
    expectOrderedLatency(report);
  });

  it('counts the calls that fail by their code, and still exits 0', async () => {
    // flaky fails every third call each worker serves.
    const report = await bench(0, endpoint, 'flaky', '1', '--calls', '300', '--concurrency', '3');
    expect(report.calls).toBe(300);
    expect(report.ok + report.failed).toBe(300);
    expect(Object.keys(report.errors)).toEqual(['REMOTE_ERROR']);
    expect(report.errors.REMOTE_ERROR).toBe(report.failed);
    expect(report.failed).toBeGreaterThanOrEqual(98);
    expect(report.failed).toBeLessThanOrEqual(100);
    expectOrderedLatency(report);
  });

  it('takes a checkout per call with --checkout-per-call', async () => {
    const report = await bench(
      0,
      endpoint,
      'echo',
      '{"a":[1,2]}',
      '--calls',
      '200',
      '--concurrency',
      '2',
      '--checkout-per-call',
    );
    expect(report).toMatchObject({
      checkoutPerCall: true,
      concurrency: 2,
      calls: 200,
      ok: 200,
      errors: {},
    });
    expectOrderedLatency(report);
  });

  it('stops after --duration seconds', async () => {
    const started = Date.now();
    const report = await bench(0, endpoint, 'nap', '20', '--duration', '1', '--concurrency', '2');
    // Loose bounds: the machine may be busy; what matters is that it stopped on its own.
    expect(report.seconds).toBeGreaterThanOrEqual(1);
    expect(report.seconds).toBeLessThan(10);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(report.calls).toBeGreaterThan(0);
    // 2 lanes of 20 ms naps cannot make more than about 100 calls in a second.
    expect(report.calls).toBeLessThan(150);
    expect(report.errors).toEqual({});
  });

  it('prints calls/s, the latency percentiles and the errors for people', async () => {
    const { code, stdout, stderr } = await taskpool(
      'bench',
      endpoint,
      'flaky',
      'word',
      '--calls',
      '30',
    );
    expect(code, stderr).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`flaky on ${endpoint}: 1 lane, a checkout per lane`);
    expect(lines[1]).toMatch(/^calls {7}30 in \d+(\.\d+)? s \(10 failed\)$/);
    expect(lines[2]).toMatch(/^calls\/s {5}\d+(\.\d+)?$/);
    const latency =
      /^latency ms {2}p50 ([\d.]+) {2}p90 ([\d.]+) {2}p99 ([\d.]+) {2}max ([\d.]+) {2}\(min [\d.]+, mean [\d.]+\)$/.exec(
        lines[3] ?? '',
      );
    expect(latency, lines[3]).not.toBeNull();
    const [p50, p90, p99, max] = (latency ?? []).slice(1).map(Number) as number[];
    expect(p50).toBeLessThanOrEqual(p90 as number);
    expect(p90).toBeLessThanOrEqual(p99 as number);
    expect(p99).toBeLessThanOrEqual(max as number);
    expect(lines[4]).toBe('errors      REMOTE_ERROR 10');
    // No progress line where standard error is not a terminal.
    expect(stderr).toBe('');
  });

  it('exits 1 when no call succeeds, with the report', async () => {
    const report = await bench(1, endpoint, 'nosuch', '--calls', '5');
    expect(report).toMatchObject({ calls: 5, ok: 0, failed: 5, errors: { UNKNOWN_METHOD: 5 } });
  });

  it('takes a new checkout after a fatal failure poisoned the lane', async () => {
    // Each call times out, which poisons its checkout: every call after the first is made
    // on a new one, and fails the same way instead of at once with the stored error.
    const started = Date.now();
    const report = await bench(1, endpoint, 'nap', '1000', '--calls', '3', '--timeout', '200');
    expect(report).toMatchObject({ calls: 3, ok: 0, errors: { TIMEOUT: 3 } });
    expect(report.latencyMs.min).toBeGreaterThanOrEqual(200);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('exits 1, saying why, when the server cannot be reached; 2 on bad usage', async () => {
    const missing = `unix:${join(tmpdir(), `taskpool-bench-missing-${process.pid}`, 'x.sock')}`;
    const unreachable = await taskpool('bench', missing, 'echo', '--json');
    expect(unreachable).toMatchObject({ code: 1, stdout: '' });
    expect(unreachable.stderr).toBe(
      `taskpool: cannot connect to ${missing}: ENOENT: no such file or directory\n`,
    );
    for (const args of [
      [endpoint],
      [endpoint, 'echo', '--calls', '0'],
      [endpoint, 'echo', '--concurrency', 'many'],
      [endpoint, 'echo', '--duration', '0'],
      [endpoint, 'echo', '--timeout', '0'],
      [endpoint, 'echo', '--checkout-per-call=yes'],
    ]) {
      const result = await taskpool('bench', ...args);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
    }
  });
});
