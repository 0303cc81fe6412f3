/**
 * The entry points of every published package, shared by the tsup build and the test
 * setup (which builds the same entries, JavaScript only, for the processes tests start).
 */
export const PACKAGE_ENTRIES: Record<string, Record<string, string>> = {
  protocol: {
    index: 'packages/protocol/src/index.ts',
    internal: 'packages/protocol/src/internal.ts',
    schemas: 'packages/protocol/src/schemas.ts',
  },
  client: { index: 'packages/client/src/index.ts' },
  redis: { index: 'packages/redis/src/index.ts' },
  otel: { index: 'packages/otel/src/index.ts' },
  prometheus: { index: 'packages/prometheus/src/index.ts' },
  cli: { bin: 'packages/cli/src/bin.ts' },
  server: {
    index: 'packages/server/src/index.ts',
    'worker-main': 'packages/server/src/worker-main.ts',
    'fork-main': 'packages/server/src/fork-main.ts',
  },
};
