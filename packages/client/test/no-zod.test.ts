/**
 * A client must not load zod to check its options (about 55 ms and 14 MB per process): it
 * loads it only through a user's interface, which brings the user's own zod. Bundled from
 * source as a user's bundler would, and from the published build with every import kept,
 * the client must not import it.
 */
import { describe, expect, it } from 'vitest';
import { fromBuild, fromSources, isZod } from '../../../test/helpers/module-imports.js';

describe('the client', () => {
  it('does not import zod', async () => {
    const { inputs, imports } = await fromSources("export * from '@taskpool/client';");
    expect(inputs.some((path) => path.includes('packages/client/src/options.ts'))).toBe(true);
    expect(imports).toContain('node:net');
    expect(imports.filter(isZod)).toEqual([]);
  });

  it('does not import zod from the published build either (no bundler, every import runs)', async () => {
    const { inputs, imports } = await fromBuild("import '@taskpool/client';", [
      'zod',
      'zod/*',
      'node:*',
    ]);
    expect(inputs.some((path) => path.includes('packages/client/dist/'))).toBe(true);
    expect(inputs.some((path) => path.includes('packages/protocol/dist/'))).toBe(true);
    expect(imports.filter(isZod)).toEqual([]);
  });
});
