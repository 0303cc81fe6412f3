import { defineConfig, type Options } from 'tsup';
import { PACKAGE_ENTRIES } from './build-entries.js';

/**
 * One build per published package: ESM with declarations. Nothing from node_modules or a
 * sibling package is bundled: every bare import stays an import.
 */
const packageBuild = (name: string, entry: Record<string, string>): Options => ({
  name,
  entry,
  outDir: `packages/${name}/dist`,
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { index: entry.index as string }, compilerOptions: { paths: {} } },
  sourcemap: true,
  // Entries of one package share one copy of each module (one AsyncLocalStorage, …).
  splitting: true,
  clean: true,
  external: [/^[^./]/],
  tsconfig: './tsconfig.json',
});

export default defineConfig(
  Object.entries(PACKAGE_ENTRIES).map(([name, entry]) => packageBuild(name, entry)),
);
