/**
 * The type generator on its own: names, the awkward schemas, declarations shared or in
 * conflict, what it refuses to follow; and that what it writes for all of them compiles.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineInterface, type InterfaceDescription } from '@taskpool/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { generateTypes, recordedHash } from '../src/types/generate.js';
import { toIdentifier, toTypeName } from '../src/types/names.js';

const Point = z.object({ x: z.number(), y: z.number() }).meta({ title: 'Point' });
const OtherPoint = z.object({ lat: z.number(), lon: z.number() }).meta({ title: 'Point' });
type Tree = { name: string; children: Tree[] };
const Tree: z.ZodType<Tree> = z.object({
  name: z.string(),
  get children() {
    return z.array(Tree);
  },
});

const awkward = defineInterface(
  {
    'get-user': {
      args: z.tuple([
        z.string().meta({ title: 'user id' }),
        z.string().describe('The password to hash, in full'),
      ]),
      result: z.union([
        z.object({ id: z.string(), name: z.string(), email: z.string(), age: z.number() }),
        z.object({ error: z.string(), code: z.number(), retryAfter: z.number().optional() }),
      ]),
    },
    near: { args: z.tuple([Point, z.array(Point)], z.number()), result: Point },
    locate: { args: z.tuple([z.string()]), result: OtherPoint },
    tree: { args: z.tuple([]), result: Tree },
    class: {
      args: z.tuple([z.string().describe('class'), z.string().describe('class')]),
      result: z.date(),
    },
    ticks: { args: z.tuple([]), yields: z.number() },
    anything: { args: z.tuple([z.unknown()]), result: z.unknown() },
    v2beta: { args: z.tuple([z.enum(['a', 'b'])]), result: z.null() },
  },
  { name: 'Awkward' },
);

describe('generateTypes: what a review found', () => {
  const edges = defineInterface(
    {
      new: { args: z.tuple([z.string()]), result: z.string() },
      grow: { args: z.tuple([Tree]), result: z.number() },
      locate: { args: z.tuple([z.string()]), result: z.object({ spot: OtherPoint }) },
      shape: {
        args: z.tuple([]),
        result: z.object({ type: z.literal('Point'), at: Point }).meta({ title: 'Shape' }),
      },
    },
    { name: 'Edges' },
  );

  it('keeps a method named new a method (bare, it would be a construct signature)', async () => {
    const { text } = await generateTypes(edges.describe(), { format: 'dts', name: 'Edges' });
    expect(text).toContain('  "new"(args_0: string): Promise<string>;');
  });

  it('types a recursive argument from the definitions of the whole tuple', async () => {
    const { text, warnings } = await generateTypes(edges.describe(), {
      format: 'dts',
      name: 'Edges',
    });
    expect(text).not.toMatch(/grow\(args_0: unknown\)/);
    expect(warnings).toEqual([]);
  });

  it('renames a second type of the same name only where it is a type, not in a literal', async () => {
    const { text } = await generateTypes(edges.describe(), { format: 'dts', name: 'Edges' });
    // Two types titled Point: the second is renamed, where it is a type only. The literal
    // 'Point' stays a literal.
    expect(text).toMatch(/interface Point2 \{/);
    expect(text).toMatch(/type: "Point";/);
    expect(text).not.toMatch(/"Point2"/);
  });
});

describe('generateTypes', () => {
  it('names parameters from titles and short descriptions, else args_N', async () => {
    const { text } = await generateTypes(awkward.describe(), { format: 'dts', name: 'Awkward' });
    // A method name that is not an identifier is quoted; a title becomes camelCase; a
    // description that is a sentence is not a name, but documents the parameter.
    expect(text).toContain('  "get-user"(userId: string, args_1: string): Promise<GetUserResult>;');
    expect(text).toContain('@param args_1 - The password to hash, in full');
    // Reserved words and repeats are made usable.
    expect(text).toContain('  class(class_: string, class__1: string): Promise<unknown>;');
    // A rest element is a rest parameter.
    expect(text).toMatch(
      / {2}near\(Point: \w+, args_1: \w+\[\], \.\.\.rest: number\[\]\): Promise<\w+>;/,
    );
    // What accepts anything is unknown, not an object with an index signature.
    expect(text).toContain('  anything(args_0: unknown): Promise<unknown>;');
    // A stream without a result returns nothing.
    expect(text).toContain('  ticks(): TaskStream<number, void>;');
    expect(text).toContain('  v2beta(args_0: "a" | "b"): Promise<null>;');
  });

  it('declares a shared type once, renames one that conflicts, and keeps recursion', async () => {
    const { text } = await generateTypes(awkward.describe(), { format: 'dts', name: 'Awkward' });
    const declared = [...text.matchAll(/^export (?:type|interface) (\w+)/gm)].map(
      (match) => match[1],
    );
    expect(new Set(declared).size).toBe(declared.length);
    // The two different objects titled Point both exist, under different names.
    expect(text).toMatch(/export interface \w+ \{\n {2}lat: number;\n {2}lon: number;\n\}/);
    expect(text).toMatch(/export interface \w+ \{\n {2}x: number;\n {2}y: number;\n\}/);
    expect(text).toMatch(
      /export interface TreeResult \{\n {2}name: string;\n {2}children: TreeResult\[\];\n\}/,
    );
    // A union too long for a line is declared by name.
    expect(text).toMatch(/export type GetUserResult =\n/);
  });

  it('never follows a $ref out of the schema', async () => {
    const description = structuredClone(awkward.describe()) as InterfaceDescription;
    description.methods.tree = {
      args: { type: 'array', items: [{ $ref: 'http://127.0.0.1:9/x.json' }], minItems: 1 },
      result: { $ref: '/etc/passwd' },
    };
    const { text, warnings } = await generateTypes(description, { format: 'dts', name: 'Awkward' });
    expect(text).toContain('  tree(args_0: unknown): Promise<unknown>;');
    expect(warnings).toEqual([]);
    const module = await generateTypes(description, { format: 'ts', name: 'Awkward' });
    expect(module.text).not.toContain('/etc/passwd');
    expect(module.text).not.toContain('127.0.0.1');
  });

  it('types a piece it cannot compile as unknown, and says so', async () => {
    const description = structuredClone(awkward.describe()) as InterfaceDescription;
    description.methods.tree = { args: { type: 'array', items: [] }, result: { type: 'object' } };
    const { text, warnings } = await generateTypes(description, {
      format: 'dts',
      name: 'Awkward',
      compile: async (schema, name, options) => {
        if ((schema as { type?: unknown }).type === 'object' && name === 'TreeResult') {
          throw new Error('cannot');
        }
        return (await import('json-schema-to-typescript')).compile(schema, name, options);
      },
    });
    expect(text).toContain('  tree(): Promise<unknown>;');
    expect(warnings).toEqual([
      'the result of tree: typed unknown, its schema did not compile: cannot',
    ]);
  });

  it('writes the description itself as json', async () => {
    const { text } = await generateTypes(awkward.describe(), { format: 'json', name: 'Awkward' });
    expect(JSON.parse(text)).toEqual(awkward.describe());
  });
});

describe('recordedHash', () => {
  const hash = awkward.describe().hash;

  it('finds the hash each format records', async () => {
    for (const format of ['dts', 'ts', 'json'] as const) {
      const { text } = await generateTypes(awkward.describe(), { format, name: 'Awkward' });
      expect(recordedHash(text), format).toBe(hash);
    }
    // taskpool describe's output: the hello.
    expect(recordedHash(JSON.stringify({ type: 'hello', interface: { hash } }))).toBe(hash);
    // Reformatted with double quotes.
    expect(recordedHash(`export const AwkwardHash = "${hash}";`)).toBe(hash);
  });

  it('finds none where none is recorded', () => {
    expect(recordedHash('export interface Awkward {}')).toBeUndefined();
    expect(recordedHash('{ "methods": {} }')).toBeUndefined();
    expect(recordedHash('{ not json')).toBeUndefined();
    expect(recordedHash(`// ${hash}`)).toBeUndefined();
  });
});

describe('names', () => {
  it('makes identifiers and type names', () => {
    expect(toIdentifier('user id')).toBe('userId');
    expect(toIdentifier('user-id')).toBe('userId');
    expect(toIdentifier('plaintext')).toBe('plaintext');
    expect(toIdentifier('9 lives')).toBe('_9Lives');
    expect(toIdentifier('delete')).toBe('delete_');
    expect(toIdentifier('The password to hash', 3)).toBeUndefined();
    expect(toIdentifier('!!!')).toBeUndefined();
    expect(toTypeName('get_user')).toBe('GetUser');
    expect(toTypeName('getUser')).toBe('GetUser');
    expect(toTypeName('v2beta')).toBe('V2Beta');
    expect(toTypeName('2fa')).toBe('T2Fa');
  });
});

describe('what it writes compiles', () => {
  const repo = fileURLToPath(new URL('../../..', import.meta.url));
  const cache = join(repo, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const scratch = mkdtempSync(join(cache, 'taskpool-types-generate-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('under tsc --strict, both formats of the awkward interface', async () => {
    const description = awkward.describe();
    const dts = await generateTypes(description, { format: 'dts', name: 'Awkward' });
    const module = await generateTypes(description, { format: 'ts', name: 'Awkward' });
    writeFileSync(join(scratch, 'package.json'), '{ "type": "module", "private": true }\n');
    writeFileSync(join(scratch, 'awkward.d.ts'), dts.text);
    writeFileSync(join(scratch, 'awkward-runtime.ts'), module.text);
    writeFileSync(
      join(scratch, 'use.ts'),
      `import { createClient } from '@taskpool/client';
import type { Awkward } from './awkward.js';
import { awkward } from './awkward-runtime.js';

const typed = createClient<Awkward>({ connect: 'unix:/nonexistent.sock' });
const checked = createClient({ connect: 'unix:/nonexistent.sock', interface: awkward });
export async function use(): Promise<void> {
  const co = await typed.checkout();
  const user = await co['get-user']('id', 'secret');
  if ('error' in user) console.log(user.code);
  const tree = await co.tree();
  console.log(tree.children[0]?.name, await co.near({ x: 1, y: 2 }, [], 3, 4));
  for await (const tick of co.ticks()) console.log(tick + 1);
  const other = await checked.checkout();
  const located = await other.locate('here');
  console.log(located.lat + located.lon, await other.v2beta('a'));
}
`,
    );
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
          verbatimModuleSyntax: true,
          target: 'ES2022',
          lib: ['ES2023', 'ESNext.Disposable'],
          types: ['node'],
          module: 'nodenext',
          moduleResolution: 'nodenext',
          customConditions: ['taskpool-source'],
          skipLibCheck: true,
          noEmit: true,
        },
        files: ['awkward.d.ts', 'awkward-runtime.ts', 'use.ts'],
      }),
    );
    const tsc = join(repo, 'node_modules/typescript/bin/tsc');
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [tsc, '-p', scratch, '--pretty', 'false'],
        { timeout: 120_000 },
        (error, stdout) => resolve({ code: error ? 1 : 0, stdout }),
      );
    });
    const errors = result.stdout.split('\n').filter((line) => / error TS\d+/.test(line));
    // The workspace packages are compiled from their sources here, and their function
    // bodies do not all pass exactOptionalPropertyTypes: a user compiles against their
    // declarations, which have no bodies. What was generated must pass everything.
    const generated = errors.filter((line) => !line.startsWith('packages/'));
    expect(generated, result.stdout).toEqual([]);
  }, 120_000);
});
