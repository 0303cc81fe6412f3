import { findNonJson, isJsonValue, MAX_JSON_DEPTH } from '@taskpool/protocol/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('findNonJson', () => {
  it('accepts anything JSON round-trips', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(findNonJson(value)).toBeUndefined();
      }),
    );
    expect(
      findNonJson({ when: new Date(0), nothing: undefined, proto: Object.create(null) }),
    ).toBeUndefined();
  });

  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  class Point {
    x = 1;
  }
  let deep: unknown = 1;
  for (let i = 0; i < 600; i++) deep = [deep];

  it.each([
    ['NaN', { a: [1, Number.NaN] }, /at \.a\[1\] is NaN/],
    ['Infinity', Number.POSITIVE_INFINITY, /the value is Infinity/],
    ['a BigInt', { n: 1n }, /bigint/],
    ['a function', [() => 1], /function/],
    ['a symbol', { s: Symbol('x') }, /symbol/],
    ['a class instance', { p: new Point() }, /instance of Point/],
    ['a Map', new Map(), /instance of Map/],
    ['a cycle', cycle, /cycle/],
    ['deep nesting', deep, /nested deeper/],
  ])('names %s and where it is', (_, value, reason) => {
    expect(findNonJson(value)).toMatch(reason);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(findNonJson([shared, shared])).toBeUndefined();
  });
});

/** The check as it was first written (paths and a set of visited objects), as an oracle. */
function reference(value: unknown): boolean {
  const seen = new Set<object>();
  const visit = (item: unknown, depth: number): boolean => {
    switch (typeof item) {
      case 'string':
      case 'boolean':
      case 'undefined':
        return true;
      case 'number':
        return Number.isFinite(item);
      case 'bigint':
      case 'function':
      case 'symbol':
        return false;
    }
    if (item === null) return true;
    const object = item as object;
    if (depth > MAX_JSON_DEPTH) return false;
    if (object instanceof Date) return true;
    if (seen.has(object)) return false;
    seen.add(object);
    let ok = true;
    if (Array.isArray(object)) {
      for (let i = 0; ok && i < object.length; i++) ok = visit(object[i], depth + 1);
    } else {
      const proto = Object.getPrototypeOf(object);
      ok = proto === Object.prototype || proto === null;
      for (const key of ok ? Object.keys(object) : []) {
        ok &&= visit((object as Record<string, unknown>)[key], depth + 1);
      }
    }
    seen.delete(object);
    return ok;
  };
  return visit(value, 0);
}

describe('isJsonValue', () => {
  it('says what findNonJson says, without its paths', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withDate: true,
          withMap: true,
          withNullPrototype: true,
          withSparseArray: true,
          withBigInt: true,
          withBoxedValues: true,
          withTypedArray: true,
        }),
        (value) => {
          expect(isJsonValue(value)).toBe(reference(value));
          expect(findNonJson(value) === undefined).toBe(reference(value));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('refuses cycles and deep nesting, which findNonJson tells apart', () => {
    const cycle: unknown[] = [];
    cycle.push({ again: cycle });
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_JSON_DEPTH + 1; i++) deep = { deep };
    const shared = { x: 1 };
    expect(isJsonValue(cycle)).toBe(false);
    expect(findNonJson(cycle)).toMatch(/cycle/);
    expect(isJsonValue(deep)).toBe(false);
    expect(findNonJson(deep)).toMatch(/deeper/);
    expect(isJsonValue([shared, shared, { shared }])).toBe(true);
  });
});
