/**
 * A worker serving a plain record of handlers must not load zod (about 55 ms and 14 MB per
 * process). Bundled from source as a user's bundler would (unused modules of the
 * side-effect-free protocol package dropped), the server must not import it.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

async function importsOf(entry: string): Promise<string[]> {
  const result = await build({
    stdin: { contents: entry, resolveDir: root, sourcefile: 'entry.ts', loader: 'ts' },
    absWorkingDir: root,
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    tsconfig: `${root}tsconfig.json`,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.values(result.metafile.outputs).flatMap((output) =>
    output.imports.map((imported) => imported.path),
  );
}

describe('the worker runtime', () => {
  it('does not import zod', async () => {
    const imports = await importsOf(
      "export * from '@taskpool/server'; export * from './packages/server/src/worker-main.ts';",
    );
    expect(imports).toContain('node:net');
    expect(imports.filter((path) => path === 'zod' || path.startsWith('zod/'))).toEqual([]);
  });

  it('does not import zod from the published build either (no bundler, every import runs)', async () => {
    // The build the test setup made of packages/*/dist, resolved as Node resolves a user's
    // import (package exports, default conditions), keeping every module as Node would.
    const result = await build({
      stdin: {
        contents: "import '@taskpool/server'; import './packages/server/dist/worker-main.js';",
        resolveDir: root,
        sourcefile: 'entry.mjs',
      },
      absWorkingDir: root,
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      external: ['zod', 'zod/*', 'ioredis', 'node:*'],
      tsconfigRaw: {},
      treeShaking: false,
      ignoreAnnotations: true,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes('packages/protocol/dist/'))).toBe(true);
    const imports = Object.values(result.metafile.outputs).flatMap((output) =>
      output.imports.map((imported) => imported.path),
    );
    expect(imports.filter((path) => path === 'zod' || path.startsWith('zod/'))).toEqual([]);
  });
});
