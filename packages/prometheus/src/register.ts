/**
 * `registerMetrics()`: taskpool's clients, servers and queues in a prom-client registry,
 * read from their `stats()` at each scrape; and `collectFamilies()`, the same families for
 * the text format without prom-client.
 *
 * @module
 */
import { InvalidOptionError } from '@taskpool/protocol';
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
  /**
   * A client (`createClient`), or several by name, each name a `client` label.
   * @default none
   * @example client: { web: webClient, jobs: jobsClient }
   */
  client?: Sources<ClientStatsLike>;
  /**
   * A server (`createServer`, `forkTaskServer`'s handle), or several by name (`server`).
   * @default none
   * @example server
   */
  server?: Sources<ServerStatsLike>;
  /**
   * A queue (`createQueue`), or several by name (`queue`).
   * @default none
   * @example queue: { mail: mailQueue }
   */
  queue?: Sources<QueueStatsLike>;
}

/**
 * The part of prom-client's `Registry` used: structural, so that these declarations need
 * no prom-client (an optional peer) for users of the text format alone.
 */
export interface RegistryLike {
  registerMetric(metric: object): void;
  getSingleMetric(name: string): unknown;
  removeSingleMetric(name: string): void;
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
      throw new InvalidOptionError(
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
    // A source whose stats() fails (a queue while Redis is away) is left out of this
    // scrape, rather than failing the whole registry, the user's own metrics with it.
    const reading = Promise.allSettled(
      this.#sources.map(async ({ source, labels }) => ({ stats: await source.stats(), labels })),
    ).then((read) =>
      read.flatMap((settled) => (settled.status === 'fulfilled' ? [settled.value] : [])),
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

/** Labels the families set themselves, and so refused in `labels`. */
const RESERVED_LABELS = new Set([
  'quantile',
  'state',
  'outcome',
  'reason',
  'version',
  'client',
  'server',
  'queue',
]);

function checkLabels(labels: Labels): Labels {
  for (const name of Object.keys(labels)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith('__')) {
      throw new InvalidOptionError(
        `registerMetrics: option labels: expected label names of letters, digits and _ (not starting with a digit or __), received ${JSON.stringify(name)}`,
      );
    }
    if (RESERVED_LABELS.has(name)) {
      throw new InvalidOptionError(
        `registerMetrics: option labels: ${JSON.stringify(name)} is a label taskpool's families set themselves; choose another name`,
      );
    }
  }
  return labels;
}

function collectors(sources: MetricSources, options: MetricsOptions): Collector[] {
  const labels = checkLabels(options.labels ?? {});
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
  registry: RegistryLike,
  sources: MetricSources,
  options: MetricsOptions = {},
): () => void {
  const registered = collectors(sources, options);
  // All or nothing: a name taken already fails the call before any is registered.
  const taken = registered.filter(({ name }) => registry.getSingleMetric(name) !== undefined);
  if (taken.length > 0) {
    throw new InvalidOptionError(
      `registerMetrics: the registry already has ${taken.map(({ name }) => name).join(', ')}: register each source once, or several by name ({ client: { web, jobs } })`,
    );
  }
  for (const { name, help, type, collect } of registered) {
    // A collector prom-client reads as its own metrics. Its registry may rename it (an
    // OpenMetrics registry drops a counter's `_total`, then adds it to each sample):
    // get() reports the name it has then.
    const metric = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ ...(await collect()), name: metric.name }),
      reset: () => {},
    };
    registry.registerMetric(metric);
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
