/**
 * TypeScript from an interface's description (`describe()`, or a worker's `hello`): a
 * declaration file of typed methods (`dts`), a module that also validates at run time
 * (`ts`), or the description itself (`json`).
 *
 * Each piece (each argument, a result, a stream's items) is compiled on its own by
 * json-schema-to-typescript, and the method signatures are written here: it has no notion
 * of a parameter list, and would type the arguments as one tuple. Types that fit on a
 * line are written in place; others are declared beside the interface, by name.
 *
 * @module
 */
import type { InterfaceDescription, JsonSchema, MethodDescription } from '@taskpool/protocol';
import type {
  Options as CompileOptions,
  compile as compileSchema,
} from 'json-schema-to-typescript';
import { isIdentifier, propertyKey, TypeNames, toIdentifier, toTypeName } from './names.js';

/** What `taskpool types` writes. */
export type TypesFormat = 'dts' | 'ts' | 'json';

/** The formats, for the usage check. */
export const TYPES_FORMATS: readonly TypesFormat[] = ['dts', 'ts', 'json'];

/** What {@link generateTypes} gives: the file's text, and what could not be typed. */
export interface GeneratedTypes {
  readonly text: string;
  /** Pieces typed `unknown` because their schema could not be compiled, in words. */
  readonly warnings: readonly string[];
}

/** json-schema-to-typescript's `compile`. */
type Compile = typeof compileSchema;

/**
 * How each piece is compiled. Objects without `additionalProperties` get no index
 * signature: zod says nothing of extra keys in an input schema (it strips them), and an
 * index signature would let every misspelt property through. `$ref`s are resolved within
 * the schema only: a schema that came from a server must not make this read a file or
 * fetch a URL.
 */
const COMPILE_OPTIONS: Partial<CompileOptions> = {
  bannerComment: '',
  additionalProperties: false,
  declareExternallyReferenced: true,
  unknownAny: true,
  format: true,
  $refOptions: { resolve: { external: false } },
};

/** A description's argument names past this many words are a sentence, not a name. */
const MAX_NAME_WORDS = 3;

/** Above this length a signature's parameters go one to a line. */
const MAX_LINE = 100;

function isObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A description as a doc comment's text: nothing in it may end the comment. */
function docText(text: string): string {
  return text.replaceAll('*/', '*\\/');
}

/** A doc comment of `lines`, indented by `indent`, or nothing without lines. */
function docComment(lines: readonly string[], indent = ''): string {
  if (lines.length === 0) return '';
  const body = lines.flatMap((line) => docText(line).split('\n'));
  if (body.length === 1) return `${indent}/** ${body[0]} */\n`;
  return `${indent}/**\n${body.map((line) => `${indent} *${line ? ` ${line}` : ''}`).join('\n')}\n${indent} */\n`;
}

/** Keywords that say nothing of which values a schema accepts. */
const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  'definitions',
  '$defs',
]);

/**
 * True for a schema that accepts anything (`{}`, what zod gives for `z.unknown()` and for
 * what JSON Schema cannot say, a date): `unknown`. json-schema-to-typescript would make it
 * an object with an index signature.
 */
function acceptsAnything(schema: JsonSchema): boolean {
  return Object.keys(schema).every((key) => ANNOTATIONS.has(key));
}

/** Replaces every external `$ref` (not `#…`) by an empty schema: typed `unknown`. */
function withoutExternalRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutExternalRefs);
  if (!isObject(value)) return value;
  if (typeof value.$ref === 'string' && !value.$ref.startsWith('#')) return {};
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, withoutExternalRefs(inner)]),
  );
}

/** One top-level declaration of compiled output: its name and its text (doc comment included). */
interface Declaration {
  readonly name: string;
  readonly text: string;
}

const DECLARATION = /^export (?:declare )?(?:const )?(?:type|interface|enum) ([A-Za-z_$][\w$]*)/;

/**
 * The top-level declarations of json-schema-to-typescript's output (formatted by prettier:
 * a declaration and its doc comment start at column 0, their bodies are indented).
 */
function splitDeclarations(output: string): Declaration[] {
  const declarations: Declaration[] = [];
  let lines: string[] = [];
  let name: string | undefined;
  let inComment = false;
  const flush = () => {
    if (name !== undefined) declarations.push({ name, text: lines.join('\n').trimEnd() });
    lines = [];
    name = undefined;
  };
  for (const line of output.split('\n')) {
    const opensComment = line.startsWith('/*');
    if (!inComment && name !== undefined && (opensComment || line.startsWith('export '))) flush();
    if (!inComment && opensComment && !line.includes('*/')) inComment = true;
    else if (inComment && line.includes('*/')) inComment = false;
    else if (!inComment && name === undefined) name = DECLARATION.exec(line)?.[1];
    if (line !== '' || lines.length > 0) lines.push(line);
  }
  flush();
  return declarations;
}

/** A type as the element type of an array: `string[]`, `(string | number)[]`. */
function arrayOf(type: string): string {
  return /^[\w$.]+(?:<.*>)?$/.test(type) ? `${type}[]` : `(${type})[]`;
}

/** A typed piece: the type to write, and the schema's description. */
interface Typed {
  readonly type: string;
  readonly description?: string;
}

/** One parameter of a method's signature. */
interface Parameter {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
  readonly rest: boolean;
  /** For the doc comment: a description that did not become the name. */
  readonly description?: string;
}

/** One method, typed. */
interface TypedMethod {
  readonly name: string;
  readonly description?: string;
  readonly parameters: readonly Parameter[];
  readonly stream: boolean;
  readonly result: Typed | undefined;
  readonly item: Typed | undefined;
}

/** Compiles pieces, and keeps the declarations they need, each once, under unique names. */
class TypeWriter {
  readonly names = new TypeNames();
  readonly declarations = new Map<string, string>();
  readonly warnings: string[] = [];
  readonly #compile: Compile;

  constructor(compile: Compile) {
    this.#compile = compile;
  }

  /** The type of `schema`, declared as `base` (or a free name like it) if it needs a declaration. */
  async typeOf(schema: unknown, base: string, what: string): Promise<Typed> {
    if (schema === false) return { type: 'never' };
    if (!isObject(schema)) return { type: 'unknown' };
    const description = typeof schema.description === 'string' ? schema.description : undefined;
    const piece = withoutExternalRefs(schema) as JsonSchema;
    if (acceptsAnything(piece)) {
      return { type: 'unknown', ...(description !== undefined ? { description } : {}) };
    }
    // The root's title would name the declaration; the name is chosen here.
    delete piece.title;
    const name = this.names.unique(base);
    let output: string;
    try {
      output = await this.#compile(piece as Parameters<Compile>[0], name, COMPILE_OPTIONS);
    } catch (error) {
      this.names.release(name);
      this.warnings.push(
        `${what}: typed unknown, its schema did not compile: ${(error as Error).message}`,
      );
      return { type: 'unknown', ...(description !== undefined ? { description } : {}) };
    }
    const mine = new Set([name]);
    const duplicates = new Set<string>();
    let declarations = splitDeclarations(output);
    for (let i = 0; i < declarations.length; i++) {
      const declaration = declarations[i] as Declaration;
      if (mine.has(declaration.name) || duplicates.has(declaration.name)) continue;
      if (this.declarations.get(declaration.name) === declaration.text) {
        duplicates.add(declaration.name); // the same type, from another piece: declared once
        continue;
      }
      if (!this.names.has(declaration.name)) {
        this.names.claim(declaration.name);
        mine.add(declaration.name);
        continue;
      }
      // Another type by that name is declared already: this one is renamed, everywhere
      // in this piece's output, and the output read again.
      const fresh = this.names.unique(declaration.name);
      mine.add(fresh);
      // Only where it is a type reference: not in a string literal, nor as a property key.
      output = output.replace(
        new RegExp(`(?<![\\w$"'])${declaration.name.replace(/\$/g, '\\$')}(?![\\w$"']|\\??:)`, 'g'),
        fresh,
      );
      declarations = splitDeclarations(output);
      i = -1;
      duplicates.clear();
    }
    const root = declarations.find((declaration) => declaration.name === name) ?? declarations[0];
    let type = root?.name ?? 'unknown';
    for (const declaration of declarations) {
      if (duplicates.has(declaration.name)) continue;
      if (declaration === root) {
        // A type that fits on a line is written in place, without a declaration (its
        // description goes into the method's doc comment).
        const body = declaration.text.replace(/^\/\*[\s\S]*?\*\/\n/, '');
        const alias = /^export type [\w$]+ = ([^\n]+);$/.exec(body);
        if (alias?.[1] !== undefined && !new RegExp(`\\b${root.name}\\b`).test(alias[1])) {
          type = alias[1];
          this.names.release(root.name);
          continue;
        }
      }
      this.declarations.set(declaration.name, declaration.text);
    }
    return { type, ...(description !== undefined ? { description } : {}) };
  }

  /** The parameters of a method, from its `args` schema (draft-07's tuple, or 2020-12's). */
  async parametersOf(method: string, args: JsonSchema): Promise<Parameter[]> {
    const prefix = toTypeName(method);
    const tuple = Array.isArray(args.items)
      ? { items: args.items as unknown[], rest: args.additionalItems }
      : Array.isArray(args.prefixItems)
        ? { items: args.prefixItems as unknown[], rest: args.items }
        : undefined;
    if (!tuple) {
      // Not a tuple: any number of arguments, of the array's item type if it has one.
      const element = isObject(args.items) ? args.items : undefined;
      const { type } = element
        ? await this.typeOf(
            withDefinitions(element, args),
            `${prefix}Args`,
            `${method}'s arguments`,
          )
        : { type: 'unknown' };
      return [{ name: 'args', type, optional: false, rest: true }];
    }
    const required = typeof args.minItems === 'number' ? args.minItems : 0;
    const used = new Set<string>();
    const parameters: Parameter[] = [];
    for (const [index, item] of tuple.items.entries()) {
      const title = isObject(item) && typeof item.title === 'string' ? item.title : undefined;
      const about =
        isObject(item) && typeof item.description === 'string' ? item.description : undefined;
      const fromTitle = title !== undefined ? toIdentifier(title) : undefined;
      const fromDescription =
        fromTitle === undefined && about !== undefined
          ? toIdentifier(about, MAX_NAME_WORDS)
          : undefined;
      let name = fromTitle ?? fromDescription ?? `args_${index}`;
      while (used.has(name)) name = `${name}_${index}`;
      used.add(name);
      const { type } = await this.typeOf(
        withDefinitions(item, args),
        `${prefix}${toTypeName(name)}`,
        `argument ${index} of ${method}`,
      );
      parameters.push({
        name,
        type,
        optional: index >= required,
        rest: false,
        ...(about !== undefined && fromDescription === undefined ? { description: about } : {}),
      });
    }
    // zod always writes `additionalItems` for a tuple (`false`, or the rest element's
    // schema); a schema without it is read as zod means it: no rest parameter.
    if (tuple.rest !== undefined && tuple.rest !== false) {
      let name = 'rest';
      while (used.has(name)) name = `${name}_`;
      const { type } = isObject(tuple.rest)
        ? await this.typeOf(
            withDefinitions(tuple.rest, args),
            `${prefix}Rest`,
            `the rest arguments of ${method}`,
          )
        : { type: 'unknown' };
      parameters.push({ name, type, optional: false, rest: true });
    }
    return parameters;
  }

  async method(name: string, described: MethodDescription): Promise<TypedMethod> {
    const prefix = toTypeName(name);
    const args = isObject(described.args) ? described.args : {};
    const parameters = await this.parametersOf(name, args);
    const stream = described.yields !== undefined;
    const item = stream
      ? await this.typeOf(described.yields, `${prefix}Item`, `the items of ${name}`)
      : undefined;
    const result =
      described.result !== undefined
        ? await this.typeOf(described.result, `${prefix}Result`, `the result of ${name}`)
        : undefined;
    return {
      name,
      ...(typeof described.description === 'string' ? { description: described.description } : {}),
      parameters,
      stream,
      result,
      item,
    };
  }
}

/** A method's signature in the interface: `hash(plaintext: string): Promise<string>;`. */
function signature(method: TypedMethod, indent: string): string {
  const parameters = method.parameters.map((parameter) =>
    parameter.rest
      ? `...${parameter.name}: ${arrayOf(parameter.type)}`
      : `${parameter.name}${parameter.optional ? '?' : ''}: ${parameter.type}`,
  );
  const returns = method.stream
    ? `TaskStream<${method.item?.type ?? 'unknown'}, ${method.result?.type ?? 'void'}>`
    : `Promise<${method.result?.type ?? 'unknown'}>`;
  const head = `${indent}${propertyKey(method.name)}(`;
  const line = `${head}${parameters.join(', ')}): ${returns};`;
  const docs: string[] = [];
  if (method.description !== undefined) docs.push(method.description);
  for (const parameter of method.parameters) {
    if (parameter.description !== undefined) {
      docs.push(`@param ${parameter.name} - ${parameter.description}`);
    }
  }
  if (method.stream) {
    const about = [
      method.item?.description !== undefined ? `each item: ${method.item.description}` : '',
      method.result?.description !== undefined ? `its result: ${method.result.description}` : '',
    ].filter(Boolean);
    if (about.length > 0) docs.push(`@returns a stream; ${about.join('; ')}`);
  } else if (method.result?.description !== undefined) {
    docs.push(`@returns ${method.result.description}`);
  }
  const doc = docComment(docs, indent);
  if (line.length <= MAX_LINE || parameters.length === 0) return `${doc}${line}`;
  return `${doc}${head}\n${parameters.map((text) => `${indent}  ${text},`).join('\n')}\n${indent}): ${returns};`;
}

/** The interface declaration, with the declarations its methods need after it. */
function interfaceText(name: string, methods: readonly TypedMethod[], writer: TypeWriter): string {
  const body = methods.map((method) => signature(method, '  ')).join('\n');
  const declarations = [...writer.declarations.values()];
  return [`export interface ${name} {\n${body}\n}`, ...declarations].join('\n\n');
}

/** The file's opening comment. */
function header(description: InterfaceDescription, name: string, lines: readonly string[]): string {
  const called = name === description.name ? '' : ` (here ${name})`;
  return docComment([
    `The interface ${description.name}${called}, generated by \`taskpool types\`: do not edit.`,
    '`taskpool types --check <this file>` exits 1 once the interface has changed.',
    ...lines,
  ]);
}

/** The hash constant's doc comment. */
const HASH_DOC = docComment([
  'The hash of the interface these types were generated from (`describe().hash`, the',
  "worker's `hello.interface.hash`): what `taskpool types --check` compares.",
]);

/** Options of {@link generateTypes}. */
export interface GenerateOptions {
  /** What to write. */
  format: TypesFormat;
  /** The generated interface's name: an identifier. */
  name: string;
  /** json-schema-to-typescript's `compile` (loaded only when types are written). */
  compile?: Compile;
}

/** The file `taskpool types` writes for an interface's description. */
export async function generateTypes(
  description: InterfaceDescription,
  { format, name, compile }: GenerateOptions,
): Promise<GeneratedTypes> {
  if (format === 'json') return { text: `${JSON.stringify(description, null, 2)}\n`, warnings: [] };
  // Loaded here only: no other command pays for it (nor for prettier, which it loads).
  const writer = new TypeWriter(compile ?? (await import('json-schema-to-typescript')).compile);
  writer.names.claim(name);
  const methods: TypedMethod[] = [];
  for (const [method, described] of Object.entries(description.methods)) {
    methods.push(await writer.method(method, described));
  }
  const streams = methods.some((method) => method.stream);
  const hashName = `${name}Hash`;
  if (format === 'dts') {
    const text = [
      header(description, name, [
        '',
        `Use it as \`createClient<${name}>({ connect })\`: checkouts then have these methods.`,
        'Nothing is checked at run time but JSON-ness (`--format ts` gives validators).',
      ]),
      ...(streams ? ["import type { TaskStream } from '@taskpool/client';\n"] : []),
      `${HASH_DOC}export declare const ${hashName}: '${description.hash}';\n`,
      `${interfaceText(name, methods, writer)}\n`,
    ].join('\n');
    return { text, warnings: writer.warnings };
  }
  return {
    text: runtimeModule(description, name, methods, writer, streams),
    warnings: writer.warnings,
  };
}

/** Names the `ts` format declares or imports itself: the runtime interface may not take one. */
const MODULE_NAMES = new Set(['z', 'defineInterface', 'fromJsonSchema', 'TaskStream']);

/**
 * A piece of the arguments' schema (one tuple item, the rest element) with the definitions
 * of the whole: zod puts a recursive schema, or one with an `id`, there and refers to it
 * with `$ref: '#/definitions/…'`, which the piece compiled alone could not resolve.
 */
function withDefinitions(piece: unknown, root: JsonSchema): unknown {
  if (!isObject(piece)) return piece;
  const shared: JsonSchema = {};
  if (root.definitions !== undefined) shared.definitions = root.definitions;
  if (root.$defs !== undefined) shared.$defs = root.$defs;
  return Object.keys(shared).length === 0 ? piece : { ...shared, ...piece };
}

/** A value's name for the runtime interface: the type's name, first letter lower-cased. */
function valueName(name: string): string {
  const lower = `${name.charAt(0).toLowerCase()}${name.slice(1)}`;
  return isIdentifier(lower) && !MODULE_NAMES.has(lower) ? lower : `${lower}_`;
}

/** `Schemas.hash`, or `Schemas["get-user"]` for a name that is not an identifier. */
function member(object: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${object}.${key}` : `${object}[${JSON.stringify(key)}]`;
}

/** The `ts` format: the types, the JSON Schemas, and an interface built from them. */
function runtimeModule(
  description: InterfaceDescription,
  name: string,
  methods: readonly TypedMethod[],
  writer: TypeWriter,
  streams: boolean,
): string {
  const schemasName = `${name}Schemas`;
  const hashName = `${name}Hash`;
  const runtime = valueName(name);
  const entries = methods.map((method) => {
    const schemas = member(schemasName, method.name);
    const lines = [
      `    args: fromJsonSchema<Parameters<${name}[${JSON.stringify(method.name)}]>>(${schemas}.args),`,
    ];
    if (method.stream) {
      lines.push(
        `    yields: fromJsonSchema<${method.item?.type ?? 'unknown'}>(${schemas}.yields),`,
      );
    }
    if (method.result) {
      lines.push(`    result: fromJsonSchema<${method.result.type}>(${schemas}.result),`);
    }
    if (method.description !== undefined) {
      lines.push(`    description: ${JSON.stringify(method.description)},`);
    }
    return `  ${propertyKey(method.name)}: {\n${lines.join('\n')}\n  },`;
  });
  const imports = streams
    ? "import { defineInterface, type TaskStream } from '@taskpool/client';"
    : "import { defineInterface } from '@taskpool/client';";
  return [
    header(description, name, [
      '',
      `\`createClient({ connect, interface: ${runtime} })\` types checkouts by these methods and`,
      'validates arguments before they are sent, and results and items on receipt. It needs',
      'zod 4.2 or later in your dependencies: the validators are made by `z.fromJSONSchema`,',
      'which zod marks experimental (how it reads a JSON Schema may change in a later zod).',
    ]),
    `${imports}\nimport { z } from 'zod';\n`,
    `${HASH_DOC}export const ${hashName} = '${description.hash}';\n`,
    `${interfaceText(name, methods, writer)}\n`,
    `${docComment(["Each method's JSON Schemas (draft-07), as the interface describes them."])}export const ${schemasName} = ${JSON.stringify(withoutExternalRefs(description.methods), null, 2)};\n`,
    `${docComment([
      'A zod schema made from a JSON Schema, typed as the types above say.',
      'z.fromJSONSchema is experimental in zod 4: its behaviour may change between versions.',
    ])}function fromJsonSchema<T>(schema: object): z.ZodType<T, T> {
  return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]) as unknown as z.ZodType<T, T>;
}\n`,
    `${docComment([
      `The interface ${description.name} with validators, for \`createClient({ connect, interface: ${runtime} })\`.`,
    ])}export const ${runtime} = defineInterface(\n  {\n${entries.map((entry) => entry.replace(/^/gm, '  ')).join('\n')}\n  },\n  { name: ${JSON.stringify(description.name)} },\n);\n`,
  ].join('\n');
}

/**
 * The interface hash recorded in a file written by `taskpool types` (any format), or
 * undefined. A JSON file has it as `hash` (or, for `taskpool describe`'s output, as
 * `interface.hash`); a TypeScript file as the `…Hash` constant.
 */
export function recordedHash(text: string): string | undefined {
  if (text.trimStart().startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { hash?: unknown; interface?: { hash?: unknown } };
      const hash = parsed.hash ?? parsed.interface?.hash;
      return typeof hash === 'string' ? hash : undefined;
    } catch {
      return undefined;
    }
  }
  return /\bconst\s+[\w$]*Hash\b[^\n;=]*?[:=]\s*['"`](sha256:[0-9a-f]{64})['"`]/.exec(text)?.[1];
}
