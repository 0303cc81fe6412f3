/**
 * Names in generated TypeScript: identifiers made from titles and descriptions, and a
 * registry that keeps the type names of one file unique.
 *
 * @module
 */

/** Words TypeScript does not take as a parameter name (strict mode) or a type name. */
const RESERVED = new Set([
  'arguments',
  'await',
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'eval',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'implements',
  'import',
  'in',
  'instanceof',
  'interface',
  'let',
  'new',
  'null',
  'package',
  'private',
  'protected',
  'public',
  'return',
  'static',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'yield',
]);

/** Type names a generated file must not declare: the ones it uses from elsewhere. */
const TAKEN_TYPE_NAMES = [
  'TaskStream',
  'Promise',
  'Array',
  'Record',
  'Parameters',
  'ReturnType',
  'Awaited',
  'Date',
  'Error',
  'Object',
  'String',
  'Number',
  'Boolean',
  'Function',
  'Symbol',
];

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** True for a word usable as a TypeScript identifier as it is. */
export function isIdentifier(word: string): boolean {
  return IDENTIFIER.test(word) && !RESERVED.has(word);
}

/** The alphanumeric words of a text: `"user id"` and `"user-id"` are both `user`, `id`. */
function wordsOf(text: string): string[] {
  return text.split(/[^A-Za-z0-9]+/).filter((word) => word !== '');
}

/**
 * A camelCase identifier from a title or a description (`"user id"` → `userId`), or
 * undefined when nothing usable is left. An identifier as it came is kept as it is.
 * Past `maxWords` words, the text is a sentence rather than a name: undefined.
 */
export function toIdentifier(
  text: string,
  maxWords = Number.POSITIVE_INFINITY,
): string | undefined {
  const trimmed = text.trim();
  if (IDENTIFIER.test(trimmed)) return RESERVED.has(trimmed) ? `${trimmed}_` : trimmed;
  const words = wordsOf(trimmed);
  if (words.length === 0 || words.length > maxWords) return undefined;
  const [first = '', ...rest] = words;
  const joined =
    first.charAt(0).toLowerCase() +
    first.slice(1) +
    rest.map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('');
  const safe = /^[0-9]/.test(joined) ? `_${joined}` : joined;
  return RESERVED.has(safe) ? `${safe}_` : safe;
}

/**
 * A PascalCase type name (`"get user"`, `get_user` and `getUser` all give `GetUser`); a
 * name that would start with a digit gets a leading `T`. Only letters and digits, so
 * that json-schema-to-typescript keeps it as it is.
 */
export function toTypeName(text: string): string {
  const joined = wordsOf(text)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
  if (joined === '') return 'T';
  // A letter after a digit is upper-cased, as json-schema-to-typescript does to the names
  // it is given: the name asked for is then the name it declares.
  const stable = joined.replace(/([0-9])([a-z])/g, (_match, digit: string, letter: string) => {
    return `${digit}${letter.toUpperCase()}`;
  });
  return /^[0-9]/.test(stable) ? `T${stable}` : stable;
}

/**
 * A property or method key: as it is when it is an identifier, else a quoted string. `new`
 * is quoted too: bare, in an interface, it declares a construct signature, not a method.
 */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) && name !== 'new' ? name : JSON.stringify(name);
}

/** TypeScript's own type names, which a declared interface may not take. */
const BUILT_IN_TYPES = new Set([
  'any',
  'bigint',
  'boolean',
  'never',
  'null',
  'number',
  'object',
  'string',
  'symbol',
  'undefined',
  'unknown',
  'void',
]);

/**
 * True when `name` may name the generated interface: an identifier that is neither one of
 * TypeScript's own types nor one the file uses from elsewhere (`TaskStream`, `Promise`, …).
 */
export function isInterfaceName(name: string): boolean {
  return isIdentifier(name) && !BUILT_IN_TYPES.has(name) && !TAKEN_TYPE_NAMES.includes(name);
}

/** The type names declared in one generated file, so that no two collide. */
export class TypeNames {
  readonly #taken = new Set<string>(TAKEN_TYPE_NAMES);

  /** Claims `name`, which the caller knows is free (the interface's own name). */
  claim(name: string): void {
    this.#taken.add(name);
  }

  /** True when `name` is declared, or used, already. */
  has(name: string): boolean {
    return this.#taken.has(name);
  }

  /** Gives `name` back, when the declaration that claimed it was not kept. */
  release(name: string): void {
    this.#taken.delete(name);
  }

  /** `base`, or `base2`, `base3`…: the first that is free, claimed. */
  unique(base: string): string {
    let name = base;
    for (let n = 2; this.#taken.has(name); n++) name = `${base}${n}`;
    this.#taken.add(name);
    return name;
  }
}
