/**
 * Checks that a value survives JSON unchanged in meaning: no NaN or Infinity, no BigInt,
 * functions or symbols, no class instances other than plain objects, arrays and Dates, no
 * cycles, and no nesting deeper than {@link MAX_JSON_DEPTH}.
 *
 * @module
 */

/** The deepest nesting accepted in a call's arguments or a result. */
export const MAX_JSON_DEPTH = 512;

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(path: string): string {
  return path === '' ? 'the value' : `the value at ${path}`;
}

/**
 * True when `value` can be carried by JSON: `findNonJson(value) === undefined`, checked
 * without building paths or a set of visited objects. A cycle shows as nesting too deep,
 * so on a false answer `findNonJson` says which it is.
 */
export function isJsonValue(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth > MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!isJsonValue(value[i], depth + 1)) return false;
    }
    return true;
  }
  if (value instanceof Date) return true;
  if (!isPlain(value)) return false;
  for (const key in value) {
    if (
      Object.hasOwn(value, key) &&
      !isJsonValue((value as Record<string, unknown>)[key], depth + 1)
    ) {
      return false;
    }
  }
  return true;
}

/**
 * Returns why `value` cannot be carried by JSON, or undefined when it can. `undefined`
 * is accepted where JSON accepts it (it becomes null or drops a key).
 */
export function findNonJson(value: unknown): string | undefined {
  return isJsonValue(value) ? undefined : describeNonJson(value);
}

function describeNonJson(value: unknown): string | undefined {
  const seen = new Set<object>();
  const visit = (item: unknown, path: string, depth: number): string | undefined => {
    switch (typeof item) {
      case 'string':
      case 'boolean':
      case 'undefined':
        return undefined;
      case 'number':
        return Number.isFinite(item)
          ? undefined
          : `${describe(path)} is ${item}, which JSON cannot carry`;
      case 'bigint':
      case 'function':
      case 'symbol':
        return `${describe(path)} is a ${typeof item}, which JSON cannot carry`;
    }
    if (item === null) return undefined;
    const object = item as object;
    if (depth > MAX_JSON_DEPTH) return `${describe(path)} is nested deeper than ${MAX_JSON_DEPTH}`;
    if (object instanceof Date) return undefined;
    if (seen.has(object)) return `${describe(path)} is a cycle`;
    if (Array.isArray(object)) {
      seen.add(object);
      for (let i = 0; i < object.length; i++) {
        const reason = visit(object[i], `${path}[${i}]`, depth + 1);
        if (reason) return reason;
      }
      seen.delete(object);
      return undefined;
    }
    if (!isPlain(object)) {
      const name = (object as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      return `${describe(path)} is an instance of ${name}, not a plain object`;
    }
    seen.add(object);
    for (const key of Object.keys(object)) {
      const reason = visit((object as Record<string, unknown>)[key], `${path}.${key}`, depth + 1);
      if (reason) return reason;
    }
    seen.delete(object);
    return undefined;
  };
  return visit(value, '', 0);
}
