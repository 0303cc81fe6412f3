/**
 * `registerMetrics()`: taskpool's clients, servers and queues in a prom-client registry,
 * read from their `stats()` at each scrape; and `collectFamilies()`, the same families for
 * the text format without prom-client.
 *
 * @module
 */
import type { Metric, Registry } from 'prom-client';
import { CLIENT_FAMILIES, type ClientStatsLike } from './client-families.js';
import {
  type FamilyDefinition,
  familyOf,
  type Labels,
  type MetricFamily,
} from './metric-family.js';
import { QUEUE_FAMILIES, type QueueStatsLike } from './queue-families.js';
import { SERVER_FAMILIES, type ServerStatsLike } from './server-families.js';

/** Anything with `stats()`: a client, a server, `forkTaskServer`'s handle, a queue. */
export interface StatsSource<TStats> {
  stats(): TStats | Promise<TStats>;
}

/** One source, or several by name (each name becomes the `client`, `server` or `queue` label). */
type Sources<TStats> = StatsSource<TStats> | Record<string, StatsSource<TStats>>;

/** What to export. */
export interface MetricSources {
  /** A client (`createClient`), or several by name: `{ web: client1, jobs: client2 }`. */
  client?: Sources<ClientStatsLike>;
  /** A server (`createServer`, `forkTaskServer`), or several by name. */
  server?: Sources<ServerStatsLike>;
  /** A queue (`createQueue`), or several by name. */
  queue?: Sources<QueueStatsLike>;
}

/** Options of {@link registerMetrics} and {@link collectFamilies}. */
export interface MetricsOptions {
  /**
   * Labels every sample carries.
   * @default {}
   * @example labels: { service: 'hasher' }
   */
  labels?: Labels;
}

interface Named<TStats> {
  source: StatsSource<TStats>;
  labels: Labels;
}

function isSource<TStats>(value: Sources<TStats>): value is StatsSource<TStats> {
  return typeof (value as { stats?: unknown }).stats === 'function';
}

function named<TStats>(
  sources: Sources<TStats> | undefined,
  label: string,
  labels: Labels,
): Named<TStats>[] {
  if (sources === undefined) return [];
  if (isSource(sources)) return [{ source: sources, labels }];
  return Object.entries(sources).map(([name, source]) => {
    if (!isSource(source)) {
      throw new TypeError(
        `registerMetrics: ${label} ${JSON.stringify(name)}: expected an object with stats(), received ${typeof source}`,
      );
    }
    return { source, labels: { ...labels, [label]: name } };
  });
}

/**
 * Reads each source's stats once per scrape: the families of one source share one read
 * (a queue's costs a Redis round trip), taken again for the next scrape.
 */
class Scrape<TStats> {
  readonly #sources: Named<TStats>[];
  #reading: Promise<{ stats: TStats; labels: Labels }[]> | undefined;

  constructor(sources: Named<TStats>[]) {
    this.#sources = sources;
  }

  read(): Promise<{ stats: TStats; labels: Labels }[]> {
    if (this.#reading) return this.#reading;
    const reading = Promise.all(
      this.#sources.map(async ({ source, labels }) => ({ stats: await source.stats(), labels })),
    );
    this.#reading = reading;
    // prom-client asks every family at once: they share this read, the next scrape reads anew.
    const forget = () => setImmediate(() => (this.#reading = undefined));
    reading.then(forget, forget);
    return reading;
  }
}

/** One family, collected from its sources' stats. */
interface Collector {
  name: string;
  help: string;
  type: MetricFamily['type'];
  collect(): Promise<MetricFamily>;
}

function collectorsOf<TStats>(
  definitions: readonly FamilyDefinition<TStats>[],
  sources: Named<TStats>[],
): Collector[] {
  const scrape = new Scrape(sources);
  return definitions.map((definition) => ({
    name: definition.name,
    help: definition.help,
    type: definition.type,
    collect: async () => familyOf(definition, await scrape.read()),
  }));
}

function collectors(sources: MetricSources, options: MetricsOptions): Collector[] {
  const labels = options.labels ?? {};
  const { client, server, queue } = sources;
  return [
    ...(client ? collectorsOf(CLIENT_FAMILIES, named(client, 'client', labels)) : []),
    ...(server ? collectorsOf(SERVER_FAMILIES, named(server, 'server', labels)) : []),
    ...(queue ? collectorsOf(QUEUE_FAMILIES, named(queue, 'queue', labels)) : []),
  ];
}

/**
 * Registers taskpool's metric families in a prom-client registry. Each scrape reads the
 * sources' `stats()`. Returns a function that removes them again.
 *
 * @example
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * registerMetrics(registry, { client, queue }, { labels: { service: 'web' } });
 */
export function registerMetrics(
  registry: Registry,
  sources: MetricSources,
  options: MetricsOptions = {},
): () => void {
  const registered = collectors(sources, options);
  for (const { name, help, type, collect } of registered) {
    // A collector prom-client reads as it reads its own metrics: name, help, type, get().
    const metric = { name, help, type, aggregator: 'sum', get: collect, reset: () => {} };
    registry.registerMetric(metric as unknown as Metric);
  }
  return () => {
    for (const { name } of registered) registry.removeSingleMetric(name);
  };
}

/**
 * Every family of the sources, read now: for `toPrometheusText`, without prom-client.
 *
 * @example
 * response.end(toPrometheusText(await collectFamilies({ server })));
 */
export async function collectFamilies(
  sources: MetricSources,
  options: MetricsOptions = {},
): Promise<MetricFamily[]> {
  // Every family of a source shares one read of its stats (see Scrape).
  return Promise.all(collectors(sources, options).map((collector) => collector.collect()));
}
