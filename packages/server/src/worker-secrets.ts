/**
 * The secrets workers need (the TLS key and certificates, the `auth` keys), read from
 * their sources in the supervisor: when the server is made, so that a missing file or a
 * key that does not match its certificate fails `createServer` with `INVALID_OPTION`, and
 * again on each rolling restart, so that renewed files reach the new workers.
 *
 * @module
 */
import { createSecureContext } from 'node:tls';
import { optionError, readSecret } from '@taskpool/protocol/internal';
import type { WorkerSecrets } from './ipc.js';
import type { ResolvedServerOptions } from './options.js';

/** Reads the secrets; undefined when the server has neither TLS nor `auth`. */
export function readWorkerSecrets(
  options: Pick<ResolvedServerOptions, 'tls' | 'auth'>,
  what: string,
): WorkerSecrets | undefined {
  const { tls, auth } = options;
  if (tls === undefined && auth === undefined) return undefined;
  const secrets: WorkerSecrets = {};
  if (tls !== undefined) {
    const key = readSecret(tls.key, `${what}: option tls.key`);
    const cert = readSecret(tls.cert, `${what}: option tls.cert`);
    const ca = tls.ca === undefined ? undefined : readSecret(tls.ca, `${what}: option tls.ca`);
    try {
      createSecureContext({ key, cert, ...(ca === undefined ? {} : { ca }) });
    } catch (error) {
      throw optionError(
        what,
        'tls',
        'a PEM key and the certificate that matches it',
        `what does not load: ${(error as Error).message}`,
        error,
      );
    }
    secrets.tls = {
      key: key.toString('base64'),
      cert: cert.toString('base64'),
      ...(ca === undefined ? {} : { ca: ca.toString('base64') }),
    };
  }
  if (auth !== undefined) {
    secrets.keys = Object.fromEntries(
      Object.entries(auth.keys).map(([id, source]) => [
        id,
        readSecret(source, `${what}: option auth.keys.${id}`).toString('base64'),
      ]),
    );
  }
  return secrets;
}
