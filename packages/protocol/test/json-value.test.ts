import { findNonJson } from '@taskpool/protocol';
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
