/**
 * A worker serving a plain record of handlers must not load zod (about 55 ms and 14 MB per
 * process). Bundled from source as a user's bundler would (unused modules of the
 * side-effect-free protocol package dropped), and from the published build with every
 * import kept, the server must not import it.
 */
import { describe, expect, it } from 'vitest';
import { fromBuild, fromSources, isZod } from '../../../test/helpers/module-imports.js';

describe('the worker runtime', () => {
  it('does not import zod', async () => {
    const { imports } = await fromSources(
      "export * from '@taskpool/server'; export * from './packages/server/src/worker-main.ts';",
    );
    expect(imports).toContain('node:net');
    expect(imports.filter(isZod)).toEqual([]);
  });

  it('does not import zod from the published build either (no bundler, every import runs)', async () => {
    const { inputs, imports } = await fromBuild(
      "import '@taskpool/server'; import './packages/server/dist/worker-main.js';",
      ['zod', 'zod/*', 'ioredis', 'node:*'],
    );
    expect(inputs.some((path) => path.includes('packages/protocol/dist/'))).toBe(true);
    expect(imports.filter(isZod)).toEqual([]);
  });
});
