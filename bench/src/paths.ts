/**
 * Where the bench lives. `src/` and `.build/` are both one level under the bench root, so
 * this resolves the same from source (tsx) and from the bundled children.
 */
import { fileURLToPath } from 'node:url';

export const benchRoot = fileURLToPath(new URL('..', import.meta.url));
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const buildDir = fileURLToPath(new URL('../.build/', import.meta.url));
export const workersDir = fileURLToPath(new URL('../src/workers/', import.meta.url));

/** The bundled entry points under `.build/` (see build.ts). */
export const bundles = {
  child: `${buildDir}child.mjs`,
  rawServer: `${buildDir}raw-server.mjs`,
  taskpoolClient: `${buildDir}taskpool-client.mjs`,
  taskpoolServerLib: `${buildDir}taskpool-server-lib.mjs`,
} as const;
