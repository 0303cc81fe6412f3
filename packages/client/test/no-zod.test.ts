/**
 * A client must not load zod to check its options (about 55 ms and 14 MB per process): it
 * loads it only through a user's interface, which brings the user's own zod. Bundled from
 * source as a user's bundler would, and from the published build with every import kept,
 * the client must not import it.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const isZod = (path: string) => path === 'zod' || path.startsWith('zod/');

describe('the client', () => {
  it('does not import zod', async () => {
    const result = await build({
      stdin: {
        contents: "export * from '@taskpool/client';",
        resolveDir: root,
        sourcefile: 'entry.ts',
        loader: 'ts',
      },
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
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes('packages/client/src/options.ts'))).toBe(true);
    const imports = Object.values(result.metafile.outputs).flatMap((output) =>
      output.imports.map((imported) => imported.path),
    );
    expect(imports).toContain('node:net');
    expect(imports.filter(isZod)).toEqual([]);
  });

  it('does not import zod from the published build either (no bundler, every import runs)', async () => {
    // The build the test setup made of packages/*/dist, resolved as Node resolves a user's
    // import (package exports, default conditions), keeping every module as Node would.
    const result = await build({
      stdin: {
        contents: "import '@taskpool/client';",
        resolveDir: root,
        sourcefile: 'entry.mjs',
      },
      absWorkingDir: root,
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      external: ['zod', 'zod/*', 'node:*'],
      tsconfigRaw: {},
      treeShaking: false,
      ignoreAnnotations: true,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes('packages/client/dist/'))).toBe(true);
    expect(inputs.some((path) => path.includes('packages/protocol/dist/'))).toBe(true);
    const imports = Object.values(result.metafile.outputs).flatMap((output) =>
      output.imports.map((imported) => imported.path),
    );
    expect(imports.filter(isZod)).toEqual([]);
  });
});
