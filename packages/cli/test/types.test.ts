/**
 * `taskpool types`, with real processes: a server serving a zod interface, the command
 * line, `tsc` compiling what it wrote, and the compiled clients calling the server.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ForkedServer } from '@taskpool/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureOf, startServerWith } from '../../../test/helpers/processes.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const node = ['--conditions=taskpool-source', '--import', 'tsx', bin];
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
const interfaceModule = fileURLToPath(new URL('./fixtures/typed-interface.ts', import.meta.url));

// Under the repository, so that its node_modules give '@taskpool/client' and zod to tsc
// and to node as a user's project would find them; inside node_modules, so that the
// repository's own typecheck and lint never see the files (one of them is wrong on purpose).
const cache = join(repo, 'node_modules/.cache');
mkdirSync(cache, { recursive: true });
const scratch = mkdtempSync(join(cache, 'taskpool-types-test-'));
const inScratch = (name: string) => join(scratch, name);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd = repo): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const taskpool = (...args: string[]) => run(process.execPath, [...node, ...args]);

/** The hash of a description as `--format json` writes it. */
function hashIn(json: string): string {
  return (JSON.parse(json) as { hash: string }).hash;
}

let typed: ForkedServer;
let changed: ForkedServer;
let plain: ForkedServer;

beforeAll(async () => {
  [typed, changed, plain] = await Promise.all([
    startServerWith(fixtureOf('cli', 'typed-worker.ts')),
    startServerWith(fixtureOf('cli', 'typed-worker-changed.ts')),
    startServerWith(fixtureOf('cli', 'plain-worker.ts')),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([typed?.close(), changed?.close(), plain?.close()]);
  rmSync(scratch, { recursive: true, force: true });
});

describe('taskpool types <endpoint>', () => {
  it('writes a declaration file of the typed methods, with the hash', async () => {
    const out = inScratch('hasher.d.ts');
    const written = await taskpool('types', typed.endpoint, '--out', out);
    expect(written.stderr).toBe('');
    expect(written.code).toBe(0);
    expect(written.stdout).toMatch(
      /^taskpool: wrote \S+hasher\.d\.ts: Hasher \(sha256:[0-9a-f]{64}\)\n$/,
    );
    const dts = readFileSync(out, 'utf8');
    // Named from the tuple items' title and description; the optional one is optional.
    expect(dts).toContain('  hash(plaintext: string, rounds?: number): Promise<string>;');
    expect(dts).toContain('  stat(path: string): Promise<StatResult>;');
    expect(dts).toContain('  count(upTo: number): TaskStream<CountItem, CountResult>;');
    expect(dts).toContain("import type { TaskStream } from '@taskpool/client';");
    expect(dts).toContain('export interface StatResult {');
    expect(dts).toMatch(/ \* Hashes a password\n {3}\* @returns the salted hash\n/);
    const json = await taskpool('types', typed.endpoint, '--format', 'json');
    expect(dts).toContain(`export declare const HasherHash: '${hashIn(json.stdout)}';`);
    // Printed without --out; named by --name.
    const renamed = await taskpool('types', typed.endpoint, '--name', 'PasswordHasher');
    expect(renamed.code).toBe(0);
    expect(renamed.stdout).toContain('export interface PasswordHasher {');
    expect(renamed.stdout).toContain('export declare const PasswordHasherHash:');
  });

  it('compiles under tsc --strict (nodenext and bundler), types a client that calls the server, and rejects misuse', async () => {
    expect((await taskpool('types', typed.endpoint, '--out', inScratch('hasher.d.ts'))).code).toBe(
      0,
    );
    expect(
      (
        await taskpool(
          'types',
          typed.endpoint,
          '--format',
          'ts',
          '--out',
          inScratch('hasher-runtime.ts'),
        )
      ).code,
    ).toBe(0);
    writeFileSync(inScratch('package.json'), '{ "type": "module", "private": true }\n');
    writeFileSync(inScratch('client.ts'), CLIENT);
    writeFileSync(inScratch('misuse.ts'), MISUSE);
    writeFileSync(inScratch('runtime-check.ts'), RUNTIME_CHECK);
    const files = [
      'hasher.d.ts',
      'client.ts',
      'misuse.ts',
      'hasher-runtime.ts',
      'runtime-check.ts',
    ];
    const common = {
      strict: true,
      target: 'ES2022',
      lib: ['ES2023', 'ESNext.Disposable'],
      types: ['node'],
      // The workspace packages' "exports" give their sources under this condition: their
      // declarations are made only when they are packed.
      customConditions: ['taskpool-source'],
      skipLibCheck: true,
    };
    writeFileSync(
      inScratch('tsconfig.nodenext.json'),
      JSON.stringify({
        compilerOptions: {
          ...common,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          outDir: 'out',
          rootDir: '.',
        },
        files,
      }),
    );
    writeFileSync(
      inScratch('tsconfig.bundler.json'),
      JSON.stringify({
        compilerOptions: {
          ...common,
          module: 'preserve',
          moduleResolution: 'bundler',
          noEmit: true,
        },
        files,
      }),
    );
    const expected = MISUSE.split('\n').flatMap((line, i) =>
      line.includes('// misuse') ? [i + 1] : [],
    );
    for (const project of ['tsconfig.nodenext.json', 'tsconfig.bundler.json']) {
      const compiled = await run(
        process.execPath,
        [tsc, '-p', project, '--pretty', 'false'],
        scratch,
      );
      const errors = compiled.stdout.split('\n').filter((line) => / error TS\d+/.test(line));
      // Every error is a misuse, on a line marked so, and every marked line has one.
      const elsewhere = errors.filter((line) => !line.startsWith('misuse.ts('));
      expect(elsewhere, `${project}:\n${compiled.stdout}`).toEqual([]);
      const lines = new Set(errors.map((line) => Number(/^misuse\.ts\((\d+),/.exec(line)?.[1])));
      expect(
        [...lines].sort((a, b) => a - b),
        `${project}:\n${compiled.stdout}`,
      ).toEqual(expected);
      expect(compiled.code).not.toBe(0);
    }
    expect(readFileSync(inScratch('misuse.ts'), 'utf8')).toBeTruthy();

    // The emitted client, typed by the declaration file alone, calls the real server.
    const client = await run(process.execPath, ['out/client.js', typed.endpoint], scratch);
    expect(client.stderr).toBe('');
    expect(JSON.parse(client.stdout)).toEqual({
      hashed: '10$secret',
      salted: '12$secret',
      size: 8,
      tags: ['var', 'log'],
      items: [1, 2, 3],
      total: 3,
      called: '10$via call',
      streamed: [1, 2],
      oneShotSize: 4,
    });

    // The `ts` format validates on this side: a wrong argument is refused before anything
    // is sent (no call started), and stream options go after the arguments.
    const checked = await run(process.execPath, ['out/runtime-check.js', typed.endpoint], scratch);
    expect(checked.stderr).toBe('');
    const report = JSON.parse(checked.stdout);
    expect(report).toMatchObject({
      wrongType: {
        code: 'INVALID_ARGS',
        message: expect.stringContaining('invalid arguments for hash'),
      },
      tooManyRounds: { code: 'INVALID_ARGS' },
      startedBeforeGoodCall: [],
      hashed: '12$secret',
      items: [1, 2],
      total: 2,
      started: ['hash', 'count'],
      hash: hashIn((await taskpool('types', typed.endpoint, '--format', 'json')).stdout),
    });
  }, 240_000);

  it('--check: 0 while the file records the server interface hash, 1 once it changed', async () => {
    const [before, after] = await Promise.all(
      [typed, changed].map(async (server) =>
        hashIn((await taskpool('types', server.endpoint, '--format', 'json')).stdout),
      ),
    );
    expect(before).not.toBe(after);
    for (const format of ['dts', 'ts', 'json']) {
      const file = inScratch(`checked.${format}`);
      expect(
        (await taskpool('types', typed.endpoint, '--format', format, '--out', file)).code,
      ).toBe(0);
      const same = await taskpool('types', typed.endpoint, '--check', file);
      expect(same, format).toMatchObject({ code: 0, stderr: '' });
      expect(same.stdout).toMatch(/is up to date \(sha256:[0-9a-f]{64}\)/);
      // The second server serves the interface after a change.
      const stale = await taskpool('types', changed.endpoint, '--check', file);
      expect(stale.code, format).toBe(1);
      expect(stale.stderr).toBe(
        `taskpool: ${file} is out of date: it was generated from ${before}, and the server's interface is now ${after}\n`,
      );
    }
  });

  it('--check: a missing file, or one with no hash, is an error', async () => {
    const missing = inScratch('missing.d.ts');
    const gone = await taskpool('types', typed.endpoint, '--check', missing);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`--check: ${missing} does not exist`);
    const bare = inScratch('bare.d.ts');
    writeFileSync(bare, 'export interface Hasher {}\n');
    const none = await taskpool('types', typed.endpoint, '--check', bare);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`--check: ${bare} records no interface hash`);
  });

  it('refuses a server without a zod interface, saying to use defineInterface', async () => {
    const refused = await taskpool('types', plain.endpoint);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      `taskpool: the server at ${plain.endpoint} has no interface to describe: it serves a plain record of handlers, or one function`,
    );
    expect(refused.stderr).toContain('defineInterface');
  });

  it('exits 2 on bad usage', async () => {
    const usage: string[][] = [
      ['types'],
      ['types', typed.endpoint, '--module', interfaceModule],
      ['types', typed.endpoint, '--format', 'yaml'],
      ['types', typed.endpoint, '--check', 'x.d.ts', '--out', 'y.d.ts'],
      ['types', typed.endpoint, '--name', 'not a name'],
      ['types', typed.endpoint, '--format', 'json', '--name', 'Hasher'],
      ['types', typed.endpoint, '--export', 'hasher'],
      ['types', '--module', interfaceModule, '--wait', '100'],
    ];
    for (const args of usage) {
      const result = await taskpool(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain('usage:');
    }
    expect((await taskpool('types', typed.endpoint, '--format', 'yaml')).stderr).toContain(
      'taskpool: --format: expected dts, ts or json, received "yaml"',
    );
  });
});

describe('taskpool types --module', () => {
  it('gives the same hash as the server serving the module', async () => {
    const server = hashIn((await taskpool('types', typed.endpoint, '--format', 'json')).stdout);
    const named = await taskpool(
      'types',
      '--module',
      interfaceModule,
      '--export',
      'hasher',
      '--format',
      'json',
    );
    expect(named.code).toBe(0);
    expect(hashIn(named.stdout)).toBe(server);
    // The worker module itself, whose default export is a worker definition, built to
    // plain JavaScript as the server runs it.
    const worker = fileURLToPath(fixtureOf('cli', 'typed-worker.ts'));
    const fromWorker = await taskpool('types', '--module', worker, '--format', 'json');
    expect(fromWorker.code).toBe(0);
    expect(JSON.parse(fromWorker.stdout)).toEqual(JSON.parse(named.stdout));
    // The same types as from the server.
    const [local, remote] = await Promise.all([
      taskpool('types', '--module', interfaceModule, '--export', 'hasher'),
      taskpool('types', typed.endpoint),
    ]);
    expect(local.stdout).toBe(remote.stdout);
    const dts = inScratch('module.d.ts');
    expect((await taskpool('types', typed.endpoint, '--out', dts)).code).toBe(0);
    const checked = await taskpool('types', '--module', worker, '--check', dts);
    expect(checked).toMatchObject({ code: 0, stderr: '' });
  });

  it('says what it found when the export is not an interface, or missing', async () => {
    const noDefault = await taskpool('types', '--module', interfaceModule);
    expect(noDefault.code).toBe(1);
    expect(noDefault.stderr).toBe(
      `taskpool: ${interfaceModule} has no default export (its exports: hasher, hasherSchema): name the one to read with --export\n`,
    );
    const wrong = await taskpool('types', '--module', interfaceModule, '--export', 'hasherSchema');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      'its export "hasherSchema" is not an interface made with defineInterface',
    );
    const missing = await taskpool('types', '--module', interfaceModule, '--export', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('has no export "nope" (its exports: hasher, hasherSchema)');
    const plainWorker = fileURLToPath(fixtureOf('cli', 'plain-worker.ts'));
    const untyped = await taskpool('types', '--module', plainWorker);
    expect(untyped.code).toBe(1);
    expect(untyped.stderr).toContain('a plain record of handlers');
    expect(untyped.stderr).toContain('defineInterface');
  });

  it('says a TypeScript module needs a loader, as serve does', async () => {
    // The built command, without tsx: Node itself cannot load a .ts module (before type
    // stripping, which newer Node versions do by default).
    const built = join(repo, 'packages/cli/dist/bin.js');
    const result = await run(process.execPath, [
      built,
      'types',
      '--module',
      interfaceModule,
      '--export',
      'hasher',
    ]);
    expect(result.code).toBe(1);
    if ((process.features as { typescript?: unknown }).typescript === undefined) {
      expect(result.stderr).toContain('[ERR_UNKNOWN_FILE_EXTENSION]');
      expect(result.stderr).toContain(
        'a TypeScript module needs a loader: run taskpool with NODE_OPTIONS="--import tsx", or build the module to JavaScript',
      );
    }
  });
});

describe('loading', () => {
  it('loads json-schema-to-typescript only in types, when it writes types', () => {
    const sources = readdirSync(join(repo, 'packages/cli/src'), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.ts'));
    const importers = sources.filter((file) => {
      const text = readFileSync(join(repo, 'packages/cli/src', file), 'utf8');
      return /from 'json-schema-to-typescript'|import\('json-schema-to-typescript'\)/.test(text);
    });
    expect(importers).toEqual(['types/generate.ts']);
    const generate = readFileSync(join(repo, 'packages/cli/src/types/generate.ts'), 'utf8');
    // Types only at the top: the module itself is imported where types are written.
    expect(generate).not.toMatch(/^import (?!type )[^;]*'json-schema-to-typescript'/m);
    expect(generate).toContain("await import('json-schema-to-typescript')");
  });
});

/** A client typed by the generated declaration file alone; prints what it got. */
const CLIENT = `import { createClient } from '@taskpool/client';
import type { Hasher, HasherHash } from './hasher.js';

type Recorded = typeof HasherHash extends \`sha256:\${string}\` ? true : never;
const recorded: Recorded = true;

const client = createClient<Hasher>({ connect: process.argv[2] as string, minWorkers: 0 });
try {
  const co = await client.checkout();
  const hashed: string = await co.hash('secret');
  const salted: string = await co.hash('secret', 12);
  const stat = await co.stat('/var/log');
  const size: number = stat.size;
  const tags: string[] = stat.tags;
  const owner: string | undefined = stat.owner?.name;
  const stream = co.count(3);
  const items: number[] = [];
  for await (const item of stream) items.push(item.n);
  const { total } = await stream.result;
  const called: string = await co.call('hash', ['via call']);
  const streamed: number[] = [];
  for await (const item of co.stream('count', [2])) streamed.push(item.n);
  await co.release();
  const oneShot = await client.call('stat', ['/a/b']);
  const oneShotSize: number = oneShot.size;
  console.log(JSON.stringify({ hashed, salted, size, tags, owner, items, total, called, streamed, oneShotSize }));
} finally {
  await client.close();
}
void recorded;
`;

/** Uses of the generated types that must not compile: each line marked is an error. */
const MISUSE = `import { createClient } from '@taskpool/client';
import type { Hasher } from './hasher.js';

const client = createClient<Hasher>({ connect: 'unix:/nonexistent.sock' });
const co = await client.checkout();
await co.hash(42); // misuse: plaintext is a string
await co.hash('a', 'b'); // misuse: rounds is a number
const wrong: number = await co.hash('a'); // misuse: hash gives a string
await co.stat(); // misuse: stat takes a path
const size: string = (await co.stat('/')).size; // misuse: size is a number
await co.call('count', [1]); // misuse: a stream is not called with call()
for await (const item of co.count(1)) console.log(item.total); // misuse: items have n
await client.call('hash', [1]); // misuse: typed like co.hash
await co.missing(); // misuse: no such method
await co.hash('fine', 12);
console.log(wrong, size);
`;

/**
 * The \`ts\` format at run time: the interface made from the JSON Schemas validates here, so
 * a wrong argument is refused before it is sent (the call:start channel hears every call
 * that goes out).
 */
const RUNTIME_CHECK = `import { subscribe } from 'node:diagnostics_channel';
import { createClient } from '@taskpool/client';
import { hasher, HasherHash } from './hasher-runtime.js';

const started: string[] = [];
subscribe('taskpool:call:start', (message) => started.push((message as { method: string }).method));
const failure = (error: unknown) => {
  const { code, message } = error as { code?: string; message?: string };
  return { code, message };
};
const client = createClient({ connect: process.argv[2] as string, interface: hasher, minWorkers: 0 });
try {
  const co = await client.checkout();
  // @ts-expect-error a number where the interface says a string
  const wrongType = await co.hash(42).then(() => 'sent', failure);
  const tooManyRounds = await co.hash('x', 99).then(() => 'sent', failure);
  const startedBeforeGoodCall = [...started];
  const hashed: string = await co.hash('secret', 12);
  const stream = co.count(2, { highWaterMark: 1 });
  const items: number[] = [];
  for await (const { n } of stream) items.push(n);
  const { total } = await stream.result;
  await co.release();
  console.log(JSON.stringify({ wrongType, tooManyRounds, startedBeforeGoodCall, hashed, items, total, started, hash: HasherHash }));
} finally {
  await client.close();
}
`;
