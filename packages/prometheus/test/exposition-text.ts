/**
 * A strict reader of the Prometheus text format (version 0.0.4), for the tests: every line
 * must be a comment, a HELP, a TYPE or a sample of the family last typed, or it throws.
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  samples: ParsedSample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

function parseLabels(text: string | undefined, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text === undefined || text === '') return labels;
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (!match) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    labels[match[1] as string] = (match[2] as string).replace(/\\(.)/g, (_, c: string) =>
      c === 'n' ? '\n' : c,
    );
  }
  return labels;
}

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  // Prometheus reads NaN in any case (prom-client writes `Nan`).
  if (text.toLowerCase() === 'nan') return Number.NaN;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`bad value in ${JSON.stringify(line)}`);
  return value;
}

/** The families of an exposition, by name. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = new Map<string, ParsedFamily>();
  let current: ParsedFamily | undefined;
  if (text !== '' && !text.endsWith('\n')) throw new Error('the text does not end with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) {
      current = { name: help[1] as string, help: help[2] as string, type: 'untyped', samples: [] };
      if (families.has(current.name)) throw new Error(`${current.name} twice`);
      families.set(current.name, current);
      continue;
    }
    const type = /^# TYPE (\S+) (counter|gauge|summary|histogram|untyped)$/.exec(line);
    if (type) {
      if (!current || current.name !== type[1]) throw new Error(`TYPE without its HELP: ${line}`);
      current.type = type[2] as string;
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = SAMPLE.exec(line);
    if (!sample || !current) throw new Error(`bad line ${JSON.stringify(line)}`);
    const name = sample[1] as string;
    const family = current;
    const suffixes = family.type === 'summary' ? ['', '_sum', '_count'] : [''];
    if (!suffixes.some((suffix) => name === `${family.name}${suffix}`)) {
      throw new Error(`sample ${name} in family ${family.name}`);
    }
    family.samples.push({
      name,
      labels: parseLabels(sample[2], line),
      value: parseValue(sample[3] as string, line),
    });
  }
  return families;
}

/** The value of the one sample of `family` whose labels include `labels`. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
  sampleName = name,
): number | undefined {
  const matching = families
    .get(name)
    ?.samples.filter(
      (sample) =>
        sample.name === sampleName &&
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );
  if (matching && matching.length > 1)
    throw new Error(`${name} ${JSON.stringify(labels)}: ${matching.length} samples`);
  return matching?.[0]?.value;
}
