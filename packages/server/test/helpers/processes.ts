/** The server tests' process helpers: the shared ones, with fixtures of this package. */
import type { ForkedServer, ForkServerOptions } from '@taskpool/server';
import { fixtureOf, startServerWith } from '../../../../test/helpers/processes.js';

export {
  builtServer,
  childrenOf,
  cpuTimeMs,
  eventually,
  fdCount,
  isAlive,
  marked,
} from '../../../../test/helpers/processes.js';

/** A fixture of the server's tests, as bundled for child processes. */
export function fixture(name: string): URL {
  return fixtureOf('server', name);
}

/** Starts a real server process serving one of the server's test fixtures. */
export function startServer(
  module: string,
  options: Omit<ForkServerOptions, 'module'> = {},
): Promise<ForkedServer> {
  return startServerWith(fixture(module), options);
}
