import { defineConfig, type Options } from 'tsup';
import { PACKAGE_ENTRIES } from './build-entries.js';

/** Entry names that are libraries (imported, with declarations), not programs. */
const LIBRARY_ENTRIES = new Set(['index', 'internal', 'schemas']);

/** The entries that are libraries (declarations are made for them), not programs. */
function libraryEntries(entry: Record<string, string>): false | { entry: Record<string, string> } {
  const libraries = Object.fromEntries(
    Object.entries(entry).filter(([name]) => LIBRARY_ENTRIES.has(name)),
  );
  return Object.keys(libraries).length === 0 ? false : { entry: libraries };
}

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
  // Declarations only for the library entry; sibling packages' types are read from their
  // sources (tsconfig paths) and stay imports, so no package waits for another's build.
  dts: libraryEntries(entry),
  sourcemap: true,
  // Entries of one package share one copy of each module (one AsyncLocalStorage, …).
  splitting: true,
  clean: true,
  external: [/^[^./]/],
  tsconfig: './tsconfig.json',
});

/**
 * The packages to build: all of them, or under `npm pack` (each package's `prepack` runs
 * tsup from the root) only the one being packed, so packing every package builds each once.
 */
function packagesToBuild(): [string, Record<string, string>][] {
  const all = Object.entries(PACKAGE_ENTRIES);
  if (process.env.npm_lifecycle_event !== 'prepack') return all;
  const packing = all.filter(([name]) => `@taskpool/${name}` === process.env.npm_package_name);
  if (packing.length === 0) {
    throw new Error(
      `tsup: prepack of ${process.env.npm_package_name ?? 'an unnamed package'}: expected one of ${all.map(([name]) => `@taskpool/${name}`).join(', ')}`,
    );
  }
  return packing;
}

export default defineConfig(packagesToBuild().map(([name, entry]) => packageBuild(name, entry)));
