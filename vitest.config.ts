import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (name: string, entry = 'index') =>
  fileURLToPath(new URL(`./packages/${name}/src/${entry}.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Exact matches: a bare '@taskpool/protocol' key would also rewrite its subpaths.
    alias: [
      { find: /^@taskpool\/protocol$/, replacement: source('protocol') },
      { find: /^@taskpool\/protocol\/internal$/, replacement: source('protocol', 'internal') },
      { find: /^@taskpool\/protocol\/schemas$/, replacement: source('protocol', 'schemas') },
      { find: /^@taskpool\/server$/, replacement: source('server') },
      { find: /^@taskpool\/client$/, replacement: source('client') },
      { find: /^@taskpool\/redis$/, replacement: source('redis') },
    ],
  },
  test: {
    globalSetup: ['./test/build-for-children.ts'],
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    typecheck: {
      enabled: false,
      include: ['packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
