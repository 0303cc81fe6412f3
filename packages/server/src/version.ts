/**
 * The version of `@taskpool/server` a running server reports in its stats.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

let cached: string | null | undefined;

/**
 * The version from the package's package.json, which sits beside both `src/` and `dist/`
 * (the build's chunks are in `dist/` itself). Null when that file is not this package's,
 * as in an application bundled into one file: a wrong version would be worse than none.
 */
export function serverVersion(): string | null {
  if (cached === undefined) {
    try {
      const manifest = JSON.parse(
        readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
      ) as { name?: unknown; version?: unknown };
      cached =
        manifest.name === '@taskpool/server' && typeof manifest.version === 'string'
          ? manifest.version
          : null;
    } catch {
      cached = null;
    }
  }
  return cached;
}
