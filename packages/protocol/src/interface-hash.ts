/**
 * The hash of an interface's description: one value that changes when any schema, method,
 * description or the name changes, so a generated file can say which interface it was made
 * from, and a check can tell it is out of date.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { InterfaceDescription } from './interface.js';

/** What an interface hash looks like: the algorithm, then the digest in hex. */
export type InterfaceHash = `sha256:${string}`;

/**
 * The canonical JSON text of a JSON value: object keys sorted (by UTF-16 code units, as
 * `Array.prototype.sort` compares strings) at every depth, no whitespace. Members whose
 * value is `undefined` (or a function) are left out, as `JSON.stringify` does, and such an
 * array element is `null`. Two values equal as JSON give the same text whatever the order
 * their keys were made in.
 *
 * @example canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }) // '{"a":[{"c":3,"d":2}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

/** One value's text, or undefined for what JSON leaves out (undefined, a function, a symbol). */
function write(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((element) => write(element) ?? 'null').join(',')}]`;
  }
  // Written by hand rather than through JSON.stringify of a sorted copy: an object keeps
  // integer-like keys ("0", "10") first in numeric order whatever order it was built in.
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const text = write((value as Record<string, unknown>)[key]);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * The hash of an interface description: sha256, in hex, of its canonical JSON
 * ({@link canonicalJson}) without its own `hash` member. It is what `describe().hash` holds.
 *
 * @example interfaceHash(hasher.describe()) === hasher.describe().hash // true
 */
export function interfaceHash(
  description: Omit<InterfaceDescription, 'hash'> & { hash?: unknown },
): InterfaceHash {
  const { hash: _ignored, ...hashed } = description;
  return `sha256:${createHash('sha256').update(canonicalJson(hashed)).digest('hex')}`;
}
