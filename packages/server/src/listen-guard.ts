/**
 * Protected by default: before a server listens, it refuses (`INSECURE_LISTEN`) to be
 * reachable unprotected by others, as Redis's protected mode does. Plaintext TCP without
 * `auth` must stay on loopback (a host name counts as loopback only when every address it
 * resolves to is); a Unix socket must be in a directory that only its owner (or root) can
 * write to, since anyone who can write there can bind the name first and read what clients
 * send. The default socket directory is made here, mode 0700. `insecure: true` skips both.
 *
 * @module
 */
import { lookup } from 'node:dns/promises';
import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  defaultSocketDirectory,
  type Endpoint,
  formatEndpoint,
  InsecureError,
  isLoopback,
} from '@taskpool/protocol';

/** What decides whether a listener is protected. */
interface ListenProtection {
  tls: boolean;
  auth: boolean;
  insecure: boolean;
}

/** Throws `INSECURE_LISTEN` unless `endpoint` may be listened on as configured. */
export async function guardListen(
  endpoint: Endpoint,
  protection: ListenProtection,
  what: string,
): Promise<void> {
  if (endpoint.kind === 'unix') {
    guardSocketDirectory(dirname(endpoint.path), protection.insecure, what);
    return;
  }
  if (protection.insecure || protection.auth || protection.tls) return;
  const exposed = await nonLoopbackAddresses(endpoint.host);
  if (exposed.length === 0) return;
  const where = formatEndpoint(endpoint);
  throw new InsecureError(
    'INSECURE_LISTEN',
    `${what}: ${where} is reachable beyond this machine (${exposed.join(', ')}) in plaintext without authentication: set tls (and auth) to protect it, listen on 127.0.0.1 or a Unix socket, or set insecure: true if the network itself is trusted`,
  );
}

async function nonLoopbackAddresses(host: string): Promise<string[]> {
  if (isLoopback(host)) return [];
  // 0.0.0.0 and :: are every interface.
  if (host === '0.0.0.0' || host === '::' || host === '') return [host || '0.0.0.0'];
  try {
    const addresses = await lookup(host, { all: true, verbatim: true });
    return addresses.map(({ address }) => address).filter((address) => !isLoopback(address));
  } catch {
    // Unresolvable: listen() itself fails, with the resolver's error.
    return [];
  }
}

/**
 * The default directory is created (0700) when missing; any directory that other users
 * can write to, or that another user owns, is refused.
 */
function guardSocketDirectory(directory: string, insecure: boolean, what: string): void {
  const isDefault = directory === defaultSocketDirectory();
  if (isDefault) mkdirSync(directory, { recursive: true, mode: 0o700 });
  if (insecure) return;
  // The default directory sits in a directory everyone may write to: a link planted there
  // by another user (who may point it elsewhere later) is not this user's directory.
  const stats = isDefault
    ? lstatSync(directory, { throwIfNoEntry: false })
    : statSync(directory, { throwIfNoEntry: false });
  if (isDefault && stats && !stats.isDirectory()) {
    throw new InsecureError(
      'INSECURE_LISTEN',
      `${what}: cannot listen in ${directory}: it is not a directory (a symbolic link, say) but should be this user's own, so another user could have put it there: remove it, or listen elsewhere`,
    );
  }
  // Missing: listen() fails with ENOENT, which says so better.
  if (!stats) return;
  const uid = process.getuid?.();
  const problem =
    (stats.mode & 0o022) !== 0
      ? `other users can write to it (mode ${(stats.mode & 0o7777).toString(8)})`
      : uid !== undefined && stats.uid !== uid && stats.uid !== 0
        ? `it belongs to another user (uid ${stats.uid})`
        : undefined;
  if (problem === undefined) return;
  throw new InsecureError(
    'INSECURE_LISTEN',
    `${what}: cannot listen in ${directory}: ${problem}, so another user could take the socket's name first and read what clients send: listen in a private directory (the default is ${defaultSocketDirectory()}), or set insecure: true`,
  );
}
