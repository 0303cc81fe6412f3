/**
 * `@taskpool/prometheus` and the server's `metricsPort`, against real processes: a forked
 * server is scraped over HTTP, and a prom-client registry is read, and the exposition text
 * is parsed strictly (every line a HELP, a TYPE, or a sample of the family it follows).
 */
import { createServer } from 'node:net';
import { createClient } from '@taskpool/client';
import { collectFamilies, registerMetrics, toPrometheusText } from '@taskpool/prometheus';
import type { ForkedServer } from '@taskpool/server';
import { type OpenMetricsContentType, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fixtureOf, startServerWith } from '../../../test/helpers/processes.js';
import { type ParsedFamily, parseExposition, sampleValue } from './exposition-text.js';

let server: ForkedServer;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  server = await startServerWith(fixtureOf('prometheus', 'counting-worker.ts'), {
    metricsPort: 0,
  });
  cleanups.push(() => server.close());
});
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function scrape(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const response = await fetch(url);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    text: await response.text(),
  };
}

describe("the server's metricsPort", () => {
  it('serves the Prometheus text format with the calls its workers ran', async () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    await using client = createClient({ connect: server.endpoint, minWorkers: 0, maxWorkers: 2 });
    for (let i = 0; i < 5; i++) expect(await client.call('echo', [i])).toBe(i);
    await expect(client.call('fail', [])).rejects.toMatchObject({ code: 'REMOTE_ERROR' });

    // Workers report every second: wait for the reports, not for a time.
    let families = new Map<string, ParsedFamily>();
    await eventually(async () => {
      const { status, type, text } = await scrape(server.metricsUrl as string);
      expect(status).toBe(200);
      expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
      families = parseExposition(text);
      return (
        sampleValue(families, 'taskpool_server_calls_total', { outcome: 'ok' }) === 5 &&
        sampleValue(families, 'taskpool_server_calls_total', { outcome: 'REMOTE_ERROR' }) === 1
      );
    });
    expect(families.get('taskpool_server_calls_total')?.type).toBe('counter');
    expect(families.get('taskpool_server_workers')?.type).toBe('gauge');
    expect(sampleValue(families, 'taskpool_server_workers_spawned_total')).toBeGreaterThanOrEqual(
      2,
    );
    const duration = 'taskpool_server_call_duration_seconds';
    expect(families.get(duration)?.type).toBe('summary');
    expect(sampleValue(families, duration, {}, `${duration}_count`)).toBe(6);
    const p99 = sampleValue(families, duration, { quantile: '0.99' }) as number;
    expect(p99).toBeGreaterThan(0);
    // Seconds, not milliseconds: an echo takes far less than 10 s.
    expect(p99).toBeLessThan(10);
    const wait = 'taskpool_server_connection_wait_seconds';
    expect(sampleValue(families, wait, {}, `${wait}_count`)).toBeGreaterThanOrEqual(1);
    expect(sampleValue(families, 'taskpool_server_info')).toBe(1);
    expect(families.get('taskpool_server_info')?.samples[0]?.labels.version).toMatch(/^\d+\.\d+/);
  });

  it('answers 404 elsewhere, 405 to other methods, and stops with the server', async () => {
    const url = new URL(server.metricsUrl as string);
    expect((await scrape(`${url.origin}/`)).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);

    const other = await startServerWith(fixtureOf('prometheus', 'counting-worker.ts'), {
      metricsPort: 0,
    });
    const otherUrl = other.metricsUrl as string;
    expect((await scrape(otherUrl)).status).toBe(200);
    await other.close();
    await expect(fetch(otherUrl)).rejects.toThrow();
  });

  it('fails listen() with INVALID_OPTION when the port is taken, leaving nothing running', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(
        startServerWith(fixtureOf('prometheus', 'counting-worker.ts'), {
          metricsPort: port,
        }),
      ).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: expect.stringContaining('metricsPort'),
      });
    } finally {
      taken.close();
    }
  });
});

describe('registerMetrics', () => {
  it("puts a client's and a forked server's stats in a prom-client registry", async () => {
    await using client = createClient({ connect: server.endpoint, minWorkers: 0, maxWorkers: 3 });
    await client.call('echo', ['x']);
    {
      await using _held = await client.checkout();
      const registry = new Registry();
      const unregister = registerMetrics(
        registry,
        { client, server },
        { labels: { service: 'test' } },
      );
      const families = parseExposition(await registry.metrics());
      expect(
        sampleValue(families, 'taskpool_client_workers', { state: 'busy', service: 'test' }),
      ).toBe(1);
      expect(sampleValue(families, 'taskpool_client_max_workers')).toBe(3);
      expect(sampleValue(families, 'taskpool_client_calls_total', { outcome: 'ok' })).toBe(1);
      expect(sampleValue(families, 'taskpool_client_checkouts')).toBe(1);
      const wait = 'taskpool_client_checkout_wait_seconds';
      expect(sampleValue(families, wait, {}, `${wait}_count`)).toBe(2);
      expect(families.get('taskpool_server_workers')?.samples.map((s) => s.labels.state)).toEqual([
        'starting',
        'spare',
        'serving',
      ]);
      // Every family is one of taskpool's, named in base units.
      for (const name of families.keys()) {
        expect(name).toMatch(/^taskpool_(client|server)_[a-z_]+$/);
        if (families.get(name)?.type === 'counter') expect(name).toMatch(/_total$/);
      }
      unregister();
      expect(await registry.metrics()).toBe('\n');
    }
  });

  it('labels several sources by name, and escapes label values', async () => {
    await using first = createClient({ connect: server.endpoint, minWorkers: 0 });
    await using second = createClient({ connect: server.endpoint, minWorkers: 0 });
    await second.call('echo', [1]);
    const registry = new Registry();
    registerMetrics(registry, { client: { web: first, 'jobs "a"\\b\n': second } });
    const families = parseExposition(await registry.metrics());
    expect(sampleValue(families, 'taskpool_client_calls_total', { client: 'web' })).toBeUndefined();
    expect(
      sampleValue(families, 'taskpool_client_calls_total', {
        client: 'jobs "a"\\b\n',
        outcome: 'ok',
      }),
    ).toBe(1);
    // The text format without prom-client gives the same samples.
    const ours = parseExposition(
      toPrometheusText(await collectFamilies({ client: { web: first, 'jobs "a"\\b\n': second } })),
    );
    expect([...ours.keys()]).toEqual([...families.keys()]);
    expect(() => registerMetrics(new Registry(), { client: { bad: {} as never } })).toThrow(
      /expected an object with stats\(\)/,
    );
  });

  it('names counters right in an OpenMetrics registry', async () => {
    await using client = createClient({ connect: server.endpoint, minWorkers: 0 });
    await client.call('echo', [1]);
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    registerMetrics(registry, { client });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE taskpool_client_calls counter');
    expect(text).toContain('taskpool_client_calls_total{outcome="ok"} 1');
    expect(text).not.toContain('_total_total');
  });

  it('leaves out a source whose stats() fails, and scrapes the rest', async () => {
    await using client = createClient({ connect: server.endpoint, minWorkers: 0 });
    await client.call('echo', [1]);
    const registry = new Registry();
    const away = { stats: () => Promise.reject(new Error('Redis is away')) };
    registerMetrics(registry, { client: { up: client }, queue: { away: away as never } });
    const families = parseExposition(await registry.metrics());
    expect(
      sampleValue(families, 'taskpool_client_calls_total', { client: 'up', outcome: 'ok' }),
    ).toBe(1);
    expect(families.get('taskpool_queue_jobs')?.samples).toEqual([]);
  });

  it('refuses bad or reserved label names, and a registry that has the names already, registering nothing', async () => {
    await using client = createClient({ connect: server.endpoint, minWorkers: 0 });
    const refused: Record<string, string>[] = [
      { 'bad-name': 'x' },
      { __name: 'x' },
      { outcome: 'x' },
    ];
    for (const labels of refused) {
      expect(() => registerMetrics(new Registry(), { client }, { labels })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
    }
    const registry = new Registry();
    registerMetrics(registry, { server });
    expect(() => registerMetrics(registry, { client, server })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    // Nothing of the failed call was registered: the client's families are free.
    expect(registry.getSingleMetric('taskpool_client_calls_total')).toBeUndefined();
  });

  it('reports no quantile (NaN) for a duration nothing was measured of', async () => {
    await using client = createClient({ connect: server.endpoint, minWorkers: 0 });
    const families = parseExposition(toPrometheusText(await collectFamilies({ client })));
    const hold = 'taskpool_client_checkout_hold_seconds';
    expect(sampleValue(families, hold, { quantile: '0.99' })).toBeNaN();
    expect(sampleValue(families, hold, {}, `${hold}_count`)).toBe(0);
  });
});
