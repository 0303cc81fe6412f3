import { defineConfig, type Options } from 'tsup';

/** One build per published package: ESM with declarations, workspace siblings external. */
const packageBuild = (name: string, entry: Record<string, string>): Options => ({
  name,
  entry,
  outDir: `packages/${name}/dist`,
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { compilerOptions: { paths: {} } },
  sourcemap: true,
  clean: true,
  // Dependencies stay imports: nothing from node_modules or a sibling package is bundled.
  external: [/^[^./]/],
  tsconfig: './tsconfig.json',
});

export default defineConfig([
  packageBuild('protocol', { index: 'packages/protocol/src/index.ts' }),
]);
