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
      { find: /^@taskpool\/otel$/, replacement: source('otel') },
      { find: /^@taskpool\/prometheus$/, replacement: source('prometheus') },
    ],
  },
  test: {
    globalSetup: ['./test/build-for-children.ts', './test/socket-directory.ts'],
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    // Most of a test's time is spent waiting on the processes it started, not on the CPU:
    // two files at a time take the suite from about 250 s to 190 s on two cores.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    typecheck: {
      enabled: false,
      include: ['packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
