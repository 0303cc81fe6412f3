/**
 * How a client's connections are protected: TLS (to `tls://` endpoints, or to every TCP
 * endpoint when `tls` is given), the key it authenticates with, and the rule that plaintext
 * TCP beyond loopback needs `auth` or `insecure` (`INSECURE_CONNECT`, before anything is
 * sent; a host name is judged by the address it resolves to).
 *
 * @module
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type Endpoint, formatEndpoint, InsecureError, isLoopback } from '@taskpool/protocol';
import { readSecret } from '@taskpool/protocol/internal';
import type { ResolvedClientOptions } from './options.js';

/** The ALPN protocol a taskpool TLS connection negotiates. */
const ALPN_PROTOCOL = 'taskpool/1';

/** The client's protection, with its secrets read. */
export interface ClientSecurity {
  /** The TLS options given (read), or undefined: then only `tls://` endpoints use TLS. */
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; servername?: string } | undefined;
  auth: { keyId: string; key: Buffer } | undefined;
  insecure: boolean;
}

/** Reads the client's secrets; a missing file or variable throws `INVALID_OPTION`. */
export function clientSecurity(
  options: Pick<ResolvedClientOptions, 'tls' | 'auth' | 'insecure'>,
): ClientSecurity {
  const { tls, auth } = options;
  const read = (name: string, source: Parameters<typeof readSecret>[0] | undefined) =>
    source === undefined ? undefined : readSecret(source, `createClient: option ${name}`);
  return {
    tls:
      tls === undefined
        ? undefined
        : {
            ...optional('ca', read('tls.ca', tls.ca)),
            ...optional('cert', read('tls.cert', tls.cert)),
            ...optional('key', read('tls.key', tls.key)),
            ...optional('servername', tls.servername),
          },
    auth:
      auth === undefined
        ? undefined
        : { keyId: auth.keyId, key: readSecret(auth.key, 'createClient: option auth.key') },
    insecure: options.insecure,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** True when connections to `endpoint` use TLS. */
export function usesTls(endpoint: Endpoint, security: ClientSecurity): boolean {
  return endpoint.kind === 'tcp' && (endpoint.tls === true || security.tls !== undefined);
}

function refusal(endpoint: Endpoint, address: string): InsecureError {
  return new InsecureError(
    'INSECURE_CONNECT',
    `refusing to talk plaintext to ${formatEndpoint(endpoint)} (${address}), beyond this machine, without authentication: connect with tls:// (option tls), set option auth, or set insecure: true if the network itself is trusted`,
  );
}

/**
 * Opens the socket to `endpoint`, TLS or not. A plaintext connection to a host name that
 * resolves to any address beyond loopback fails with `INSECURE_CONNECT` before it
 * connects; to an address beyond loopback it throws that at once.
 */
export function openSocket(endpoint: Endpoint, security: ClientSecurity): Socket {
  if (endpoint.kind === 'unix') return netConnect(endpoint.path);
  const { host, port } = endpoint;
  if (usesTls(endpoint, security)) {
    const { servername, ...material } = security.tls ?? {};
    const name = servername ?? (isIP(host) === 0 ? host : undefined);
    return tlsConnect({
      host,
      port,
      ...material,
      ...(name === undefined ? {} : { servername: name }),
      ALPNProtocols: [ALPN_PROTOCOL],
    });
  }
  const guarded = security.auth === undefined && !security.insecure;
  if (!guarded || isLoopback(host)) return netConnect(port, host);
  if (isIP(host) !== 0) throw refusal(endpoint, host);
  // A name: every address it resolves to must be loopback, not only the first (a connect
  // tries them all), or nothing is connected to.
  return netConnect({ port, host, lookup: loopbackOnly(endpoint) });
}

/** How `dns.lookup` answers with `all`: the resolver {@link loopbackOnly} checks. */
type Resolve = (
  hostname: string,
  options: { all: true; family?: number | string; hints?: number },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A lookup for `net.connect` that resolves every address of a name and refuses them all
 * (`INSECURE_CONNECT`) when any is beyond loopback. `resolve` is `dns.lookup`.
 */
export function loopbackOnly(
  endpoint: Endpoint,
  resolve: Resolve = dnsLookup as Resolve,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const exposed = addresses.find(({ address }) => !isLoopback(address));
      if (exposed) {
        callback(refusal(endpoint, exposed.address) as unknown as NodeJS.ErrnoException, '', 0);
        return;
      }
      if (options.all) {
        (callback as unknown as (error: null, all: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const [first] = addresses as [LookupAddress];
      callback(null, first.address, first.family);
    });
  };
}
