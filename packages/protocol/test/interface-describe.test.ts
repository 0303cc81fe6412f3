/**
 * `describe()`: draft-07 JSON Schemas, the interface's name, method descriptions, and a
 * hash of the whole that does not depend on key order.
 */
import { createHash } from 'node:crypto';
import { defineInterface, interfaceHash } from '@taskpool/protocol';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { canonicalJson } from '../src/interface-hash.js';

const hasher = defineInterface(
  {
    hash: {
      args: z.tuple([z.string().describe('plaintext'), z.number().int().optional()]),
      result: z.string().describe('the bcrypt hash'),
      description: 'Hashes a password',
    },
    verify: {
      args: z.tuple([z.string(), z.string()]).describe('Checks a password against a hash'),
      result: z.boolean(),
    },
    tail: {
      args: z.tuple([z.string()], z.number()),
      yields: z.object({ n: z.number(), line: z.string() }),
      result: z.object({ lines: z.number() }),
    },
  },
  { name: 'Hasher' },
);

/** All the keys of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap(keysOf);
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
}

describe('describe()', () => {
  const description = hasher.describe();

  it('gives draft-07 JSON Schemas: tuples as an items array, never prefixItems', () => {
    expect(keysOf(description)).not.toContain('prefixItems');
    expect(keysOf(description)).not.toContain('$defs');
    const args = description.methods.hash?.args;
    expect(args).toMatchObject({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'array',
      items: [{ type: 'string', description: 'plaintext' }, { type: 'integer' }],
      additionalItems: false,
      // The second argument is optional.
      minItems: 1,
      maxItems: 2,
    });
    // A rest element is additionalItems.
    expect(description.methods.tail?.args).toMatchObject({
      items: [{ type: 'string' }],
      additionalItems: { type: 'number' },
    });
    // Results and items are outputs: an object's extra keys are stripped, so none come.
    expect(description.methods.tail?.yields).toMatchObject({
      type: 'object',
      additionalProperties: false,
      required: ['n', 'line'],
    });
    expect(description.methods.tail?.result).toMatchObject({ type: 'object' });
  });

  it('has the name, and defaults it to Interface', () => {
    expect(hasher.name).toBe('Hasher');
    expect(description.name).toBe('Hasher');
    const unnamed = defineInterface({ ping: { args: z.tuple([]), result: z.null() } });
    expect(unnamed.name).toBe('Interface');
    expect(unnamed.describe().name).toBe('Interface');
    expect(() => defineInterface({}, { name: '' })).toThrow(/name must be a non-empty string/);
    expect(() => defineInterface({}, { name: 42 as unknown as string })).toThrow(TypeError);
  });

  it("takes a method's description from the method, else from its args", () => {
    expect(description.methods.hash?.description).toBe('Hashes a password');
    expect(description.methods.verify?.description).toBe('Checks a password against a hash');
    expect(description.methods.tail).not.toHaveProperty('description');
    // A result's own description stays in its schema.
    expect(description.methods.hash?.result).toMatchObject({ description: 'the bcrypt hash' });
    expect(() =>
      defineInterface({
        bad: { args: z.tuple([]), result: z.null(), description: 5 as unknown as string },
      }),
    ).toThrow(/"bad": description must be a string/);
  });

  it('hashes the canonical JSON of the rest of the description with sha256', () => {
    const { hash, ...rest } = description;
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    const expected = createHash('sha256').update(canonicalJson(rest)).digest('hex');
    expect(hash).toBe(`sha256:${expected}`);
    expect(interfaceHash(description)).toBe(hash);
    // The same interface defined again has the same hash.
    expect(defineInterface(hasher.schema, { name: 'Hasher' }).describe().hash).toBe(hash);
  });

  it('gives the same hash whatever order the keys come in', () => {
    const reversed = (value: unknown): unknown => {
      if (value === null || typeof value !== 'object') return value;
      if (Array.isArray(value)) return value.map(reversed);
      return Object.fromEntries(
        Object.entries(value)
          .reverse()
          .map(([key, inner]) => [key, reversed(inner)]),
      );
    };
    const shuffled = reversed(description) as typeof description;
    expect(JSON.stringify(shuffled)).not.toBe(JSON.stringify(description));
    expect(interfaceHash(shuffled)).toBe(description.hash);
  });

  it('changes the hash when a schema, a description or the name changes', () => {
    const hashes = new Set([
      description.hash,
      defineInterface(
        { ...hasher.schema, hash: { ...hasher.schema.hash, result: z.number() } },
        { name: 'Hasher' },
      ).describe().hash,
      defineInterface(
        {
          ...hasher.schema,
          tail: { ...hasher.schema.tail, yields: z.object({ n: z.number() }) },
        },
        { name: 'Hasher' },
      ).describe().hash,
      defineInterface(
        { ...hasher.schema, hash: { ...hasher.schema.hash, description: 'Hashes' } },
        { name: 'Hasher' },
      ).describe().hash,
      defineInterface(hasher.schema, { name: 'Hasher2' }).describe().hash,
      defineInterface(hasher.schema).describe().hash,
    ]);
    expect(hashes.size).toBe(6);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth, integer-like keys as strings', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }], 10: 'x', 9: 'y' })).toBe(
      '{"10":"x","9":"y","a":[{"c":3,"d":2}],"b":1}',
    );
  });

  it('leaves out what JSON leaves out', () => {
    expect(canonicalJson({ a: undefined, b: () => 1, c: [undefined, 1] })).toBe('{"c":[null,1]}');
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson(undefined)).toBe('null');
  });
});
