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
      prefixItems: [{ type: 'string' }],
    });
    expect(description.methods.verify?.result).toMatchObject({ type: 'boolean' });
    expect(JSON.parse(JSON.stringify(description))).toEqual(description);
    // The schemas' own toJSONSchema() (no zod import here) says what z.toJSONSchema says.
    for (const name of hasher.methods) {
      const schema = hasher.schema[name];
      expect(description.methods[name]).toEqual({
        args: z.toJSONSchema(schema.args, { unrepresentable: 'any', io: 'input' }),
        result: z.toJSONSchema(schema.result, { unrepresentable: 'any', io: 'output' }),
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
