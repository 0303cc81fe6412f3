#!/usr/bin/env node
/**
 * The packaging test: what a new user gets from the registry, checked before it gets there.
 *
 * Packs every published package (each `prepack` builds it), installs the tarballs into a new
 * app in the temporary directory, outside the repository, and there runs the README's quick
 * start, extracted from README.md, three ways: TypeScript compiled by plain `tsc` and run
 * with `node`, plain JavaScript (ES modules), and CommonJS. It also checks that `tsc` rejects
 * a misuse of the typed interface, that `require()` and `import` give the same error classes,
 * that the packages work without zod (an optional peer) for untyped calls, and that the
 * `taskpool` bin of @taskpool/cli serves, describes and calls, writes types that a client
 * compiles against the installed declarations and calls with, and reports status.
 *
 * Every process it starts is in a process group of its own, killed at its deadline; every
 * server listens on a Unix socket in the temporary directory, which is removed at the end
 * (`--keep` keeps it, to look at after a failure).
 *
 *   npm run test:packaging [-- --keep]
 */
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const keep = process.argv.includes('--keep');

/** The published packages, by directory; each is packed and installed. */
const PACKAGES = ['protocol', 'prometheus', 'otel', 'server', 'client', 'redis', 'cli'];
/** Packages that are libraries: their tarballs must carry declarations. */
const LIBRARIES = ['protocol', 'prometheus', 'otel', 'server', 'client', 'redis'];
/** What the app installs from the registry, at the versions the repository is tested with. */
const FROM_REGISTRY = ['zod', 'bcryptjs', 'typescript', '@types/node'];

class Failure extends Error {}

const started = performance.now();
const tmp = mkdtempSync(join(tmpdir(), 'taskpool-packaging-'));
/** Process groups started and not yet seen empty. */
const groups = new Set();

/**
 * The environment of every process started: no npm variables of the `npm run` that started
 * this script, and no NODE_OPTIONS, as in a new shell; TMPDIR is the test's directory, so
 * the sockets forkTaskServer makes land there.
 */
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !/^npm_/i.test(key) && key !== 'NODE_OPTIONS' && key !== 'INIT_CWD',
  ),
);
env.TMPDIR = tmp;

/** The pids of the live (not zombie) processes in a process group, from /proc. */
function membersOf(pgid) {
  const members = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(entry));
  }
  return members;
}

function killGroup(pgid, signal = 'SIGKILL') {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits, up to `ms`, for a group's processes (servers, workers) to exit after its leader. */
async function waitGroupEmpty(pgid, ms) {
  const deadline = performance.now() + ms;
  let members = membersOf(pgid);
  while (members.length > 0 && performance.now() < deadline) {
    await sleep(100);
    members = membersOf(pgid);
  }
  return members;
}

function tail(text, lines = 40) {
  const all = text.trimEnd().split('\n');
  return (all.length > lines ? ['…', ...all.slice(-lines)] : all).join('\n');
}

/**
 * Starts `command` in a process group of its own. `done` settles with its exit code and
 * output; at `timeout` ms the group is killed and `done` rejects.
 */
function start(command, args, { cwd, timeout }) {
  const child = spawn(command, args, {
    cwd,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  groups.add(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  const shown = [command, ...args].join(' ');
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(child.pid);
      reject(
        new Failure(
          `${shown} (in ${cwd}) did not finish within ${timeout / 1000} s\n` +
            `stdout:\n${tail(stdout)}\nstderr:\n${tail(stderr)}`,
        ),
      );
    }, timeout);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Failure(`${shown} did not start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr });
    });
  });
  return { child, done, output: () => stdout, shown };
}

/**
 * Runs `command` to its end and checks its exit code (0 unless `expect` says otherwise) and
 * that it left no process behind (a server or worker it started must exit with it).
 */
async function run(command, args, { cwd = tmp, timeout = 60_000, expect = 0 } = {}) {
  const started = start(command, args, { cwd, timeout });
  const result = await started.done;
  const fail = (why) =>
    new Failure(
      `${started.shown} (in ${cwd}) ${why}\nstdout:\n${tail(result.stdout)}\nstderr:\n${tail(result.stderr)}`,
    );
  if (expect === 'nonzero' ? result.code === 0 : result.code !== expect) {
    throw fail(`exited with ${result.code}, expected ${expect === 0 ? 0 : expect}`);
  }
  const left = await waitGroupEmpty(started.child.pid, 15_000);
  if (left.length > 0) {
    killGroup(started.child.pid);
    throw fail(`exited but left processes running 15 s later: pids ${left.join(', ')}`);
  }
  groups.delete(started.child.pid);
  return result;
}

/** Runs one step, timing it; a failure ends the test with the step's name. */
async function step(name, fn) {
  const stepStarted = performance.now();
  try {
    const note = await fn();
    const seconds = ((performance.now() - stepStarted) / 1000).toFixed(1);
    console.log(`ok   ${name} (${seconds} s)${note ? `: ${note}` : ''}`);
  } catch (error) {
    console.error(`FAIL ${name}`);
    throw error;
  }
}

function expectOutput(result, pattern, what) {
  if (!pattern.test(result.stdout)) {
    throw new Failure(
      `expected ${what} (${pattern}) in the output\nstdout:\n${tail(result.stdout)}\nstderr:\n${tail(result.stderr)}`,
    );
  }
}

/**
 * The README's quick-start blocks: each fenced block right after a
 * `<!-- quick-start: dir/file -->` marker, by that path.
 */
function quickStartBlocks() {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const blocks = new Map();
  const marker = /<!-- quick-start: (\S+) -->\n```\w*\n([\s\S]*?)\n```\n/g;
  for (const [, path, code] of readme.matchAll(marker)) blocks.set(path, `${code}\n`);
  const expected = [
    'ts/interface.ts',
    'ts/worker.ts',
    'ts/main.ts',
    'ts/tsconfig.json',
    'esm/main.js',
    'cjs/interface.cjs',
    'cjs/worker.cjs',
    'cjs/main.cjs',
  ];
  const missing = expected.filter((path) => !blocks.has(path));
  if (missing.length > 0) {
    throw new Failure(
      `README.md has no block for ${missing.join(', ')}: each is a fenced block right after ` +
        '`<!-- quick-start: <path> -->`',
    );
  }
  return blocks;
}

/**
 * A client of the quick start's server typed only by what `taskpool types` wrote: it has no
 * access to the interface's source.
 */
const TYPED_CLIENT = `import { createClient } from '@taskpool/client';
import type { Hasher } from './hasher.js';

const client = createClient<Hasher>({ connect: process.argv[2] as string });
const co = await client.checkout();
const crypted: string = await co.hash('secret');
const ok: boolean = await co.verify(crypted, 'secret');
console.log(\`typed remote verify \${ok}\`);
await co.release();
await client.close();
`;

/** Misuses of the quick start's typed interface: tsc must reject each line marked so. */
const MISUSE = `import { createClient } from '@taskpool/client';
import { hasher } from './interface.js';

const client = createClient({ connect: 'unix:/nonexistent.sock', interface: hasher });
await using co = await client.checkout();
await co.hash(42); // misuse: hash takes a string
await client.call('verify', ['only one']); // misuse: verify takes two strings
await co.call('hash', [1]); // misuse: typed like co.hash
await co.verify('a', 'b');
`;

function versionInRepo(name) {
  return JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')).version;
}

async function main() {
  console.log(`packaging test in ${tmp}`);
  const tarballs = join(tmp, 'tarballs');
  const app = join(tmp, 'app');
  mkdirSync(tarballs);
  mkdirSync(app);

  await step('pack every package (prepack builds each)', async () => {
    const workspaces = PACKAGES.flatMap((name) => ['-w', `packages/${name}`]);
    await run('npm', ['pack', '--pack-destination', tarballs, ...workspaces], {
      cwd: repo,
      timeout: 240_000,
    });
    const files = readdirSync(tarballs);
    if (files.length !== PACKAGES.length) {
      throw new Failure(`expected ${PACKAGES.length} tarballs, found ${files.join(', ')}`);
    }
    return files.join(' ');
  });

  await step('tarball contents', async () => {
    const problems = [];
    for (const name of PACKAGES) {
      const file = join(tarballs, `taskpool-${name}-0.1.0.tgz`);
      const list = (await run('tar', ['-tzf', file])).stdout
        .split('\n')
        .filter(Boolean)
        .map((path) => path.replace(/^package\//, ''));
      for (const required of ['LICENSE', 'README.md', 'package.json']) {
        if (!list.includes(required)) problems.push(`${name}: no ${required}`);
      }
      if (LIBRARIES.includes(name) && !list.includes('dist/index.d.ts')) {
        problems.push(`${name}: no dist/index.d.ts`);
      }
      for (const path of list) {
        if (/\.map$|^src\/|^test\/|\.test\.|\/\.built\//.test(path)) {
          problems.push(`${name}: ships ${path}`);
        }
      }
    }
    if (problems.length > 0) throw new Failure(problems.join('\n'));
  });

  await step('install the tarballs into a new app', async () => {
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'packaging-app', private: true, type: 'module' }, null, 2)}\n`,
    );
    const registry = FROM_REGISTRY.map((name) => `${name}@${versionInRepo(name)}`);
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        ...readdirSync(tarballs).map((file) => join(tarballs, file)),
        ...registry,
      ],
      { cwd: app, timeout: 240_000 },
    );
    const license = readFileSync(join(repo, 'LICENSE'), 'utf8');
    for (const name of PACKAGES) {
      const installed = join(app, 'node_modules', '@taskpool', name);
      if (readFileSync(join(installed, 'LICENSE'), 'utf8') !== license) {
        throw new Failure(`@taskpool/${name}: its LICENSE is not the repository's`);
      }
    }
    return registry.join(' ');
  });

  const blocks = quickStartBlocks();
  for (const [path, code] of blocks) {
    mkdirSync(join(app, dirname(path)), { recursive: true });
    writeFileSync(join(app, path), code);
  }
  // As the README says: interface.ts and worker.ts are plain JavaScript as they are.
  copyFileSync(join(app, 'ts/interface.ts'), join(app, 'esm/interface.js'));
  copyFileSync(join(app, 'ts/worker.ts'), join(app, 'esm/worker.js'));
  mkdirSync(join(app, 'misuse'));
  copyFileSync(join(app, 'ts/interface.ts'), join(app, 'misuse/interface.ts'));
  copyFileSync(join(app, 'ts/tsconfig.json'), join(app, 'misuse/tsconfig.json'));
  writeFileSync(join(app, 'misuse/misuse.ts'), MISUSE);
  copyFileSync(join(here, 'same-classes.cjs'), join(app, 'same-classes.cjs'));
  const tsc = join(app, 'node_modules/typescript/bin/tsc');
  const verified = /^Verify result is true$/m;

  await step("README quick start, TypeScript: the README's tsconfig, plain tsc", () =>
    run(process.execPath, [tsc, '-p', 'ts'], { cwd: app }).then(() => undefined),
  );

  await step('README quick start, TypeScript: node dist/main.js', async () => {
    const result = await run(process.execPath, ['dist/main.js'], { cwd: join(app, 'ts') });
    expectOutput(result, verified, 'the verify result');
    expectOutput(result, /^One call on its own checkout: \$2[aby]\$10\$\S{53}$/m, 'a bcrypt hash');
  });

  await step('tsc rejects misuses of the typed interface', async () => {
    const result = await run(
      process.execPath,
      [tsc, '-p', 'misuse', '--noEmit', '--skipLibCheck'],
      {
        cwd: app,
        expect: 'nonzero',
      },
    );
    const marked = MISUSE.split('\n').flatMap((line, i) =>
      line.includes('// misuse') ? [i + 1] : [],
    );
    const errors = [...result.stdout.matchAll(/misuse\.ts\((\d+),\d+\): error (TS\d+)/g)];
    const lines = new Set(errors.map((match) => Number(match[1])));
    const unflagged = marked.filter((line) => !lines.has(line));
    const unexpected = [...lines].filter((line) => !marked.includes(line));
    if (errors.length === 0 || unflagged.length > 0 || unexpected.length > 0) {
      throw new Failure(
        `expected errors on lines ${marked.join(', ')} of misuse.ts and nowhere else; ` +
          `accepted: ${unflagged.join(', ') || 'none'}, errors elsewhere: ${unexpected.join(', ') || 'none'}\n${tail(result.stdout)}`,
      );
    }
    return [...new Set(errors.map((match) => match[2]))].join(' ');
  });

  await step('README quick start, JavaScript (ES modules): node main.js', async () => {
    const result = await run(process.execPath, ['main.js'], { cwd: join(app, 'esm') });
    expectOutput(result, verified, 'the verify result');
  });

  await step('README quick start, CommonJS: node main.cjs', async () => {
    const result = await run(process.execPath, ['main.cjs'], { cwd: join(app, 'cjs') });
    expectOutput(result, verified, 'the verify result');
  });

  await step('require() and import give the same error classes', async () => {
    const result = await run(process.execPath, ['same-classes.cjs'], { cwd: app });
    return result.stdout.trim();
  });

  await step(
    'without zod (an optional peer): the packages load, a plain record serves',
    async () => {
      const bare = join(tmp, 'without-zod');
      mkdirSync(bare);
      writeFileSync(
        join(bare, 'package.json'),
        `${JSON.stringify({ name: 'packaging-app-without-zod', private: true, type: 'module' }, null, 2)}\n`,
      );
      await run(
        'npm',
        [
          'install',
          '--no-audit',
          '--no-fund',
          '--prefer-offline',
          ...readdirSync(tarballs).map((file) => join(tarballs, file)),
        ],
        { cwd: bare, timeout: 240_000 },
      );
      for (const file of ['main.mjs', 'worker.mjs']) {
        copyFileSync(join(here, 'without-zod', file), join(bare, file));
      }
      const result = await run(process.execPath, ['main.mjs'], { cwd: bare });
      return result.stdout.trim();
    },
  );

  await step(
    'the taskpool bin of @taskpool/cli: help, serve, describe, call, types, status',
    async () => {
      const help = await run('npx', ['--no', '--', 'taskpool', 'help'], { cwd: app });
      expectOutput(help, /^ {2}taskpool serve /m, 'the usage');
      const endpoint = `unix:${join(tmp, 'cli.sock')}`;
      const bin = join(app, 'node_modules/.bin/taskpool');
      const server = start(bin, ['serve', 'esm/worker.js', '--listen', endpoint], {
        cwd: app,
        timeout: 60_000,
      });
      let serverDone = false;
      server.done.then(
        () => {
          serverDone = true;
        },
        () => {
          serverDone = true;
        },
      );
      try {
        const deadline = performance.now() + 20_000;
        while (!/taskpool: serving/.test(server.output())) {
          if (serverDone) throw new Failure(`taskpool serve exited:\n${tail(server.output())}`);
          if (performance.now() > deadline) {
            throw new Failure(
              `taskpool serve did not listen within 20 s:\n${tail(server.output())}`,
            );
          }
          await sleep(50);
        }
        const described = await run('npx', ['--no', '--', 'taskpool', 'describe', endpoint], {
          cwd: app,
        });
        expectOutput(described, /"verify"/, 'the interface in the hello');
        const hashed = await run(
          'npx',
          ['--no', '--', 'taskpool', 'call', endpoint, 'hash', 'secret'],
          {
            cwd: app,
          },
        );
        const crypted = JSON.parse(hashed.stdout);
        const verifiedByCli = await run(
          'npx',
          ['--no', '--', 'taskpool', 'call', endpoint, 'verify', crypted, 'secret'],
          { cwd: app },
        );
        if (verifiedByCli.stdout.trim() !== 'true') {
          throw new Failure(`taskpool call verify printed ${verifiedByCli.stdout}`);
        }
        // Types for a client without the interface's source, from the running server,
        // compiled against the installed packages' declarations, then used for real.
        mkdirSync(join(app, 'typed'));
        copyFileSync(join(app, 'ts/tsconfig.json'), join(app, 'typed/tsconfig.json'));
        await run(
          'npx',
          [
            '--no',
            '--',
            'taskpool',
            'types',
            endpoint,
            '--name',
            'Hasher',
            '--out',
            'typed/hasher.d.ts',
          ],
          { cwd: app },
        );
        writeFileSync(join(app, 'typed/client.ts'), TYPED_CLIENT);
        await run(process.execPath, [tsc, '-p', 'typed'], { cwd: app });
        const typedCall = await run(process.execPath, ['typed/dist/client.js', endpoint], {
          cwd: app,
        });
        expectOutput(typedCall, /^typed remote verify true$/m, 'a call typed by generated types');
        const checked = await run(
          'npx',
          ['--no', '--', 'taskpool', 'types', endpoint, '--check', 'typed/hasher.d.ts'],
          { cwd: app },
        );
        expectOutput(checked, /is up to date/, 'types --check');
        const status = await run('npx', ['--no', '--', 'taskpool', 'status', endpoint, '--json'], {
          cwd: app,
        });
        const report = JSON.parse(status.stdout);
        if (report.protocol < 1 || typeof report.spares !== 'number') {
          throw new Failure(`taskpool status --json printed ${status.stdout}`);
        }
      } finally {
        // The server alone: it closes its workers gracefully, as on a service manager's stop.
        process.kill(server.child.pid, 'SIGTERM');
      }
      const stopped = await server.done;
      if (stopped.code !== 0) {
        throw new Failure(
          `taskpool serve exited with ${stopped.code} on SIGTERM:\n${stopped.stderr}`,
        );
      }
      const left = await waitGroupEmpty(server.child.pid, 15_000);
      if (left.length > 0) throw new Failure(`taskpool serve left pids ${left.join(', ')} running`);
      groups.delete(server.child.pid);
    },
  );
}

function cleanUp() {
  for (const pgid of groups) killGroup(pgid);
  if (keep) console.log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

try {
  await main();
  console.log(`packaging test passed in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(error instanceof Failure ? error.message : error);
  process.exitCode = 1;
} finally {
  cleanUp();
}
