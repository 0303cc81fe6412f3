/**
 * What a package entry makes Node import, found by bundling it with esbuild's metafile:
 * for tests that hold a package to loading nothing it should not (zod, say).
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The modules bundled in, and the imports left to Node. */
export interface ModuleImports {
  /** Files read into the bundle, relative to the repository. */
  inputs: string[];
  /** Import specifiers the bundle keeps (`node:net`, `zod`, …). */
  imports: string[];
}

/** True for zod or one of its subpaths. */
export const isZod = (path: string): boolean => path === 'zod' || path.startsWith('zod/');

async function bundle(options: Parameters<typeof build>[0]): Promise<ModuleImports> {
  const result = await build({
    ...options,
    absWorkingDir: root,
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
  });
  const metafile = result.metafile as NonNullable<typeof result.metafile>;
  return {
    inputs: Object.keys(metafile.inputs),
    imports: Object.values(metafile.outputs).flatMap((output) =>
      output.imports.map((imported) => imported.path),
    ),
  };
}

/**
 * The imports of `entry` (TypeScript, resolved from the repository root) bundled from the
 * sources as a user's bundler would: packages stay external, unused modules of
 * side-effect-free packages are dropped.
 * @example await fromSources("export * from '@taskpool/client';")
 */
export function fromSources(entry: string): Promise<ModuleImports> {
  return bundle({
    stdin: { contents: entry, resolveDir: root, sourcefile: 'entry.ts', loader: 'ts' },
    packages: 'external',
    tsconfig: `${root}tsconfig.json`,
  });
}

/**
 * The imports of `entry` from the published build (packages/*\/dist, which the test setup
 * makes), resolved as Node resolves a user's import and keeping every module, as Node
 * runs them all: no tree shaking. `external` lists what stays an import.
 * @example await fromBuild("import '@taskpool/client';", ['zod', 'zod/*', 'node:*'])
 */
export function fromBuild(entry: string, external: string[]): Promise<ModuleImports> {
  return bundle({
    stdin: { contents: entry, resolveDir: root, sourcefile: 'entry.mjs' },
    external,
    tsconfigRaw: {},
    treeShaking: false,
    ignoreAnnotations: true,
  });
}
