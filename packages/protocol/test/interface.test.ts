import {
  defineInterface,
  isImplementation,
  isInterface,
  ValidationError,
} from '@taskpool/protocol';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const hasher = defineInterface({
  hash: { args: z.tuple([z.string()]), result: z.string() },
  verify: { args: z.tuple([z.string(), z.string()]), result: z.boolean() },
  parse: { args: z.tuple([z.string().transform(Number)]), result: z.number() },
});

describe('defineInterface', () => {
  it('lists its methods and knows only own names', () => {
    expect(hasher.methods).toEqual(['hash', 'verify', 'parse']);
    expect(isInterface(hasher)).toBe(true);
    for (const name of ['hash', 'verify']) expect(hasher.has(name)).toBe(true);
    for (const name of [
      'constructor',
      '__proto__',
      'toString',
      'hasOwnProperty',
      'then',
      'valueOf',
      42,
      Symbol.iterator,
    ]) {
      expect(hasher.has(name)).toBe(false);
    }
    expect(() => hasher.assertMethod('constructor')).toThrow(/unknown method "constructor"/);
  });

  it('parses arguments and says what was wrong', () => {
    expect(hasher.parseArgs('hash', ['x'])).toEqual(['x']);
    expect(hasher.parseArgs('parse', ['12'])).toEqual([12]);
    const error = (() => {
      try {
        hasher.parseArgs('verify', ['a', 5]);
      } catch (caught) {
        return caught as ValidationError;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error?.code).toBe('INVALID_ARGS');
    expect(error?.message).toMatch(/invalid arguments for verify: \[1\]/);
    expect(() => hasher.parseArgs('hash', [])).toThrow(ValidationError);
    expect(() => hasher.parseArgs('hash', ['a', 'b'])).toThrow(ValidationError);
  });

  it('parses results', () => {
    expect(hasher.parseResult('verify', true)).toBe(true);
    expect(() => hasher.parseResult('verify', 'yes')).toThrow(/invalid result of verify/);
    expect(() => hasher.parseResult('nope', 1)).toThrow(/unknown method/);
  });

  it('describes itself as JSON Schema', () => {
    const description = hasher.describe();
    expect(Object.keys(description.methods)).toEqual(['hash', 'verify', 'parse']);
    expect(description.methods.hash?.args).toMatchObject({
      type: 'array',
      items: [{ type: 'string' }],
    });
    expect(description.methods.verify?.result).toMatchObject({ type: 'boolean' });
    expect(JSON.parse(JSON.stringify(description))).toEqual(description);
    // The schemas' own toJSONSchema() (no zod import here) says what z.toJSONSchema says.
    for (const name of hasher.methods) {
      const schema = hasher.schema[name];
      expect(description.methods[name]).toEqual({
        args: z.toJSONSchema(schema.args, {
          target: 'draft-07',
          unrepresentable: 'any',
          io: 'input',
        }),
        result: z.toJSONSchema(schema.result, {
          target: 'draft-07',
          unrepresentable: 'any',
          io: 'output',
        }),
      });
    }
  });

  it('implements with a handler per method, and refuses a missing one', () => {
    const impl = hasher.implement({ hash: (p) => p, verify: () => true, parse: (n) => n });
    expect(isImplementation(impl)).toBe(true);
    // @ts-expect-error verify and parse are missing
    expect(() => hasher.implement({ hash: (p: string) => p })).toThrow(/"verify" has no handler/);
  });

  it('refuses a method without schemas', () => {
    // @ts-expect-error result is missing
    expect(() => defineInterface({ bad: { args: z.tuple([]) } })).toThrow(/needs \{ args/);
  });
});

describe('optional arguments', () => {
  const paged = defineInterface({
    page: {
      args: z.tuple([z.string(), z.number().optional(), z.number().optional()]),
      result: z.string(),
    },
    rest: { args: z.tuple([z.string()], z.number()), result: z.number() },
  });

  it('passes those left out as undefined, so what follows the arguments keeps its place', () => {
    // A handler receives (...args, ctx): without padding, ctx took the place of `offset`.
    expect(paged.parseArgs('page', ['q'])).toEqual(['q', undefined, undefined]);
    expect(paged.parseArgs('page', ['q', 2])).toEqual(['q', 2, undefined]);
    expect(paged.parseArgs('page', ['q', 2, 3])).toEqual(['q', 2, 3]);
  });

  it('leaves a tuple with a rest element as it came', () => {
    expect(paged.parseArgs('rest', ['a', 1, 2])).toEqual(['a', 1, 2]);
    expect(paged.parseArgs('rest', ['a'])).toEqual(['a']);
  });
});

describe('streaming methods', () => {
  const logs = defineInterface({
    tail: {
      args: z.tuple([z.string()]),
      yields: z.object({ line: z.string() }),
      result: z.number(),
    },
    ticks: { args: z.tuple([]), yields: z.number() },
    size: { args: z.tuple([z.string()]), result: z.number() },
  });

  it('knows which methods stream', () => {
    expect(logs.streams).toEqual(['tail', 'ticks']);
    expect(logs.isStream('tail')).toBe(true);
    expect(logs.isStream('size')).toBe(false);
    expect(logs.isStream('constructor')).toBe(false);
  });

  it('checks items against yields, with INVALID_RESULT', () => {
    expect(logs.parseItem('tail', { line: 'a' })).toEqual({ line: 'a' });
    expect(() => logs.parseItem('tail', { line: 1 })).toThrow(/invalid item of tail/);
    expect(() => logs.parseItem('size', 1)).toThrow(/size does not stream/);
  });

  it('takes nothing as the result of a stream declared without one', () => {
    expect(logs.parseResult('ticks', undefined)).toBeUndefined();
    expect(logs.parseResult('ticks', null)).toBeUndefined();
    expect(() => logs.parseResult('ticks', 5)).toThrow(/declares no result/);
  });

  it('describes each item schema as yields', () => {
    const described = logs.describe().methods;
    expect(described.tail?.yields).toMatchObject({ type: 'object' });
    expect(described.size?.yields).toBeUndefined();
    // A stream declared without a result has none: `{}` would say it returns anything.
    expect(described.ticks).not.toHaveProperty('result');
  });

  it('refuses a yields that is not a schema', () => {
    expect(() =>
      defineInterface({ bad: { args: z.tuple([]), yields: 'items' as unknown as z.ZodType } }),
    ).toThrow(/for a stream \{ args, yields: schema, result\?: schema \}/);
  });
});
