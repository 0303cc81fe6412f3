/**
 * Vitest global setup. Tests run the packages from source, but the processes they start
 * (servers, workers) are plain `node`: so that they start as fast as a user's would, this
 * builds the packages' JavaScript entries (no declarations) and bundles the TypeScript
 * test fixtures once per run, before any test.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { PACKAGE_ENTRIES } from '../build-entries.js';

const root = fileURLToPath(new URL('..', import.meta.url));

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Bare imports stay imports (the tsconfig paths that map them to sources are not used).
  packages: 'external',
  tsconfigRaw: {},
  sourcemap: 'inline',
  logLevel: 'error',
} as const;

export default async function setup(): Promise<void> {
  const builds: Promise<unknown>[] = Object.entries(PACKAGE_ENTRIES).map(([name, entryPoints]) =>
    // Splitting keeps one copy of each module shared by a package's entries.
    build({ ...common, entryPoints, outdir: `packages/${name}/dist`, splitting: true }),
  );
  for (const name of Object.keys(PACKAGE_ENTRIES)) {
    const dir = `packages/${name}/test/fixtures`;
    let files: string[] = [];
    try {
      files = readdirSync(`${root}/${dir}`).filter((file) => file.endsWith('.ts'));
    } catch {
      continue;
    }
    if (files.length === 0) continue;
    builds.push(
      build({
        ...common,
        entryPoints: files.map((file) => `${dir}/${file}`),
        outdir: `${dir}/.built`,
        outExtension: { '.js': '.mjs' },
      }),
    );
  }
  await Promise.all(builds);
}
