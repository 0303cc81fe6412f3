/**
 * `@taskpool/otel` against a real server: the client process and the worker each set up the
 * SDK with in-memory exporters, as a user would; a call makes a CLIENT span here and a
 * SERVER span in the worker, in one trace, with the RPC conventions' attributes and metrics.
 */
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { type DataPoint, type Histogram, MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createClient } from '@taskpool/client';
import { instrumentClient, instrumentTaskpool, parseTraceparent } from '@taskpool/otel';
import { TimeoutError } from '@taskpool/protocol';
import type { ForkedServer } from '@taskpool/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fixtureOf, startServerWith } from '../../../test/helpers/processes.js';
import { traced } from './fixtures/traced-worker.js';
import { CollectingReader } from './helpers/collecting-reader.js';

interface WorkerSpan {
  name: string;
  kind: SpanKind;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  /** Milliseconds since the epoch. */
  endTime: number;
  attributes: Record<string, unknown>;
  status: SpanStatusCode;
}

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const reader = new CollectingReader();
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager();
let server: ForkedServer;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  const instrumentation = instrumentTaskpool({ tracerProvider, meterProvider });
  cleanups.push(() => instrumentation.disable());
  server = await startServerWith(fixtureOf('otel', 'traced-worker.ts'));
  cleanups.push(() => server.close());
});
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  context.disable();
  await meterProvider.shutdown();
});

/** The data points of one metric, from a collection now. */
async function points(name: string): Promise<DataPoint<unknown>[]> {
  const { resourceMetrics } = await reader.collect();
  const found = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((metric) => metric.descriptor.name === name);
  return found ? (found.dataPoints as DataPoint<unknown>[]) : [];
}

describe('@taskpool/otel', () => {
  it('makes a CLIENT span and a SERVER span in one trace, and the handler spans join it', async () => {
    await using client = createClient({
      connect: server.endpoint,
      interface: traced,
      name: 'tracing',
      minWorkers: 0,
      maxWorkers: 1,
    });
    // The caller's own span: the client span is its child.
    const tracer = tracerProvider.getTracer('test');
    await tracer.startActiveSpan('request', async (request) => {
      await using co = await client.checkout();
      expect(await co.square(7)).toBe(49);
      request.end();
    });
    const clientSpan = exporter.getFinishedSpans().find((span) => span.name === 'Traced/square');
    const requestSpan = exporter.getFinishedSpans().find((span) => span.name === 'request');
    expect(clientSpan?.kind).toBe(SpanKind.CLIENT);
    expect(clientSpan?.parentSpanContext?.spanId).toBe(requestSpan?.spanContext().spanId);
    expect(clientSpan?.attributes).toMatchObject({
      'rpc.system.name': 'taskpool',
      'rpc.method': 'Traced/square',
      'server.address': server.endpoint.replace(/^unix:/, ''),
    });

    const workerSpans = (await client.call('spans', [])) as WorkerSpan[];
    const serverSpan = workerSpans.find((span) => span.name === 'Traced/square');
    const inner = workerSpans.find((span) => span.name === 'inner');
    expect(serverSpan).toMatchObject({
      kind: SpanKind.SERVER,
      traceId: clientSpan?.spanContext().traceId,
      parentSpanId: clientSpan?.spanContext().spanId,
      attributes: { 'rpc.system.name': 'taskpool', 'rpc.method': 'Traced/square' },
      status: SpanStatusCode.UNSET,
    });
    expect(inner).toMatchObject({
      traceId: clientSpan?.spanContext().traceId,
      parentSpanId: serverSpan?.spanId,
    });
  });

  it('marks a failed call with its error code, on both sides, and in the duration metrics', async () => {
    await using client = createClient({
      connect: server.endpoint,
      interface: traced,
      minWorkers: 0,
      maxWorkers: 1,
      // The worker stays after the error, so its spans can be asked for next.
      dontReforkAfterError: true,
    });
    await expect(client.call('fail', [])).rejects.toMatchObject({ code: 'REMOTE_ERROR' });
    const clientSpan = exporter
      .getFinishedSpans()
      .filter((span) => span.name === 'Traced/fail')
      .at(-1);
    expect(clientSpan?.status.code).toBe(SpanStatusCode.ERROR);
    expect(clientSpan?.attributes['error.type']).toBe('REMOTE_ERROR');

    const workerSpans = (await client.call('spans', [])) as WorkerSpan[];
    const serverSpan = workerSpans.filter((span) => span.name === 'Traced/fail').at(-1);
    expect(serverSpan?.status).toBe(SpanStatusCode.ERROR);
    expect(serverSpan?.traceId).toBe(clientSpan?.spanContext().traceId);

    const durations = (await points('rpc.client.call.duration')) as DataPoint<Histogram>[];
    const failed = durations.find(
      (point) =>
        point.attributes['rpc.method'] === 'Traced/fail' &&
        point.attributes['error.type'] === 'REMOTE_ERROR',
    );
    expect(failed?.value.count).toBe(1);
    const ok = durations.find(
      (point) =>
        point.attributes['rpc.method'] === 'Traced/square' && !('error.type' in point.attributes),
    );
    expect(ok?.value.count).toBeGreaterThanOrEqual(1);
    expect(ok?.value.sum).toBeGreaterThan(0);
    // Never a call id or a job id: the attributes are a short, fixed list.
    for (const point of durations) {
      for (const key of Object.keys(point.attributes)) {
        expect([
          'rpc.system.name',
          'rpc.method',
          'server.address',
          'server.port',
          'error.type',
        ]).toContain(key);
      }
    }
  });

  it("reports the pool as db.client.connection metrics, and a checkout's wait, use and timeout", async () => {
    await using client = createClient({
      connect: server.endpoint,
      interface: traced,
      name: 'pool',
      minWorkers: 0,
      maxWorkers: 1,
    });
    const stop = instrumentClient(client, { name: 'pool', meterProvider });
    cleanups.push(stop);
    {
      await using co = await client.checkout();
      await co.square(2);
      const count = await points('db.client.connection.count');
      const ofPool = (state: string) =>
        count.find(
          (point) =>
            point.attributes['db.client.connection.pool.name'] === 'pool' &&
            point.attributes['db.client.connection.state'] === state,
        )?.value;
      expect(ofPool('used')).toBe(1);
      expect(ofPool('idle')).toBe(0);
      expect((await points('db.client.connection.max'))[0]?.value).toBe(1);
      // The only worker is held: a second checkout waits (until it is aborted) ...
      const abort = new AbortController();
      const waiting = client.checkout({ signal: abort.signal });
      expect((await points('db.client.connection.pending_requests'))[0]?.value).toBe(1);
      abort.abort();
      await expect(waiting).rejects.toThrow();
      // ... and a third times out.
      await expect(client.checkout({ timeout: 20 })).rejects.toBeInstanceOf(TimeoutError);
    }
    const pool = { 'db.client.connection.pool.name': 'pool' };
    const timeouts = await points('db.client.connection.timeouts');
    expect(
      timeouts.find((point) => point.attributes['db.client.connection.pool.name'] === 'pool')
        ?.value,
    ).toBe(1);
    for (const name of ['db.client.connection.wait_time', 'db.client.connection.use_time']) {
      const point = (await points(name)).find((found) =>
        Object.entries(pool).every(([key, value]) => found.attributes[key] === value),
      ) as DataPoint<Histogram> | undefined;
      expect(point?.value.count, name).toBe(1);
    }
  });

  it('traces a stream from its start to its end, its items made within the SERVER span', async () => {
    await using client = createClient({
      connect: server.endpoint,
      interface: traced,
      minWorkers: 0,
      maxWorkers: 1,
    });
    await using co = await client.checkout();
    const items: number[] = [];
    for await (const item of co.count(3)) items.push(item);
    expect(items).toEqual([0, 1, 2]);
    const clientSpan = exporter
      .getFinishedSpans()
      .filter((span) => span.name === 'Traced/count')
      .at(-1);
    expect(clientSpan?.kind).toBe(SpanKind.CLIENT);
    const workerSpans = (await co.spans()) as WorkerSpan[];
    const serverSpan = workerSpans.filter((span) => span.name === 'Traced/count').at(-1);
    expect(serverSpan).toMatchObject({
      kind: SpanKind.SERVER,
      traceId: clientSpan?.spanContext().traceId,
      parentSpanId: clientSpan?.spanContext().spanId,
    });
    const itemSpans = workerSpans.filter((span) => span.name === 'item');
    expect(itemSpans).toHaveLength(3);
    for (const item of itemSpans) expect(item.parentSpanId).toBe(serverSpan?.spanId);
    // The SERVER span ended with its items, not before the first (each comes 5 ms after the
    // one before). Spans' clocks are anchored each at its own start: allow 2 ms.
    const lastItem = Math.max(...itemSpans.map((item) => item.endTime));
    expect(serverSpan?.endTime).toBeGreaterThan(lastItem - 2);
  });

  it('ends the SERVER span of a stream its reader left early', async () => {
    await using client = createClient({
      connect: server.endpoint,
      interface: traced,
      minWorkers: 0,
      maxWorkers: 1,
    });
    await using co = await client.checkout();
    for await (const item of co.count(1_000)) {
      if (item === 1) break;
    }
    // The worker ends the stream on the cancel; its span then ends too.
    let spans: WorkerSpan[] = [];
    await eventually(async () => {
      spans = (await co.spans()) as WorkerSpan[];
      return spans.some((span) => span.name === 'Traced/count');
    });
    expect(spans.filter((span) => span.name === 'item').length).toBeLessThan(1_000);
  });

  it('reads and writes W3C traceparent, and refuses malformed ones', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
      isRemote: true,
    });
    for (const bad of [
      undefined,
      '',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });
});
