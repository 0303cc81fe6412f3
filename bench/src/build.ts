/**
 * Bundles what the bench runs in child processes into plain .mjs under .build/, so no
 * TypeScript loader runs in a measured process or is inherited by its workers:
 *
 * - child.mjs (the runner and every system) and raw-server.mjs (the raw ceiling);
 * - taskpool-client.mjs and taskpool-server-lib.mjs: @taskpool/client and
 *   @taskpool/server bundled from source (tsconfig paths), built only when they exist and
 *   export createClient / createServer; otherwise taskpool is skipped with the reason.
 *
 * Packages from node_modules stay imports, resolved from bench/ as usual.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { benchRoot, buildDir, bundles, repoRoot } from './paths.js';

const common: BuildOptions = {
  absWorkingDir: benchRoot,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  tsconfig: join(benchRoot, 'tsconfig.json'),
  sourcemap: 'linked',
  logLevel: 'silent',
};

export async function buildCore(): Promise<void> {
  await build({
    ...common,
    entryPoints: { child: 'src/child.ts', 'raw-server': 'src/workers/raw-server.ts' },
    outdir: buildDir,
    outExtension: { '.js': '.mjs' },
  });
}

export type Availability = { ok: true } | { ok: false; reason: string };

async function buildPackage(name: 'client' | 'server', outfile: string, needs: string) {
  const index = join(repoRoot, `packages/${name}/src/index.ts`);
  if (!existsSync(index)) {
    return { ok: false, reason: `packages/${name}/src/index.ts does not exist yet` } as const;
  }
  try {
    const result = await build({
      ...common,
      stdin: {
        contents: `export * from '@taskpool/${name}';`,
        resolveDir: benchRoot,
        sourcefile: `taskpool-${name}-entry.ts`,
        loader: 'ts',
      },
      outfile,
      metafile: true,
    });
    const exported = Object.values(result.metafile.outputs).flatMap((output) => output.exports);
    if (!exported.includes(needs)) {
      return { ok: false, reason: `@taskpool/${name} does not export ${needs} yet` } as const;
    }
    return { ok: true } as const;
  } catch (error) {
    const first = (error instanceof Error ? error.message : String(error)).split('\n')[1] ?? '';
    return { ok: false, reason: `@taskpool/${name} does not build: ${first.trim()}` } as const;
  }
}

export async function buildTaskpool(): Promise<Availability> {
  const client = await buildPackage('client', bundles.taskpoolClient, 'createClient');
  if (!client.ok) return client;
  return buildPackage('server', bundles.taskpoolServerLib, 'createServer');
}
