/**
 * Endpoints: where a server listens and a client connects.
 *
 * @module
 */
import { InvalidOptionError } from './errors.js';

/** A Unix socket path. */
export interface UnixEndpoint {
  kind: 'unix';
  path: string;
}

/** A TCP host and port; `tls` when the connection is TLS (written `tls://host:port`). */
export interface TcpEndpoint {
  kind: 'tcp';
  host: string;
  port: number;
  tls?: boolean;
}

export type Endpoint = UnixEndpoint | TcpEndpoint;

/** What users may write for an endpoint. */
export type EndpointInput =
  | string
  | { path: string }
  | { host?: string; port: number; tls?: boolean }
  | Endpoint;

const DEFAULT_HOST = '127.0.0.1';

function parsePort(text: string, input: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidOptionError(
      `endpoint ${JSON.stringify(input)}: expected a port from 0 to 65535, received ${JSON.stringify(text)}`,
    );
  }
  return port;
}

/**
 * Parses `unix:/path`, `/absolute/path`, `tcp://host:port`, `tcp://:port`,
 * `tls://host:port`, `{ path }` or `{ host, port, tls? }`. TCP defaults to 127.0.0.1.
 */
export function parseEndpoint(input: EndpointInput): Endpoint {
  if (typeof input === 'string') {
    if (input.startsWith('unix:')) return unixEndpoint(input.slice('unix:'.length), input);
    if (input.startsWith('/')) return unixEndpoint(input, input);
    const scheme = input.startsWith('tcp://') ? 'tcp' : input.startsWith('tls://') ? 'tls' : null;
    if (scheme !== null) {
      const rest = input.slice('tcp://'.length);
      const colon = rest.lastIndexOf(':');
      if (colon < 0) {
        throw new InvalidOptionError(
          `endpoint ${JSON.stringify(input)}: expected ${scheme}://host:port, received no port`,
        );
      }
      const host = rest.slice(0, colon).replace(/^\[(.*)\]$/, '$1') || DEFAULT_HOST;
      const port = parsePort(rest.slice(colon + 1), input);
      return scheme === 'tls'
        ? { kind: 'tcp', host, port, tls: true }
        : { kind: 'tcp', host, port };
    }
    throw new InvalidOptionError(
      `endpoint: expected "unix:/path", an absolute path, "tcp://host:port" or "tls://host:port", received ${JSON.stringify(input)}`,
    );
  }
  if (typeof input === 'object' && input !== null) {
    if ('kind' in input && (input.kind === 'unix' || input.kind === 'tcp')) return input;
    if ('path' in input && typeof input.path === 'string')
      return unixEndpoint(input.path, input.path);
    if ('port' in input && typeof input.port === 'number') {
      const endpoint: TcpEndpoint = {
        kind: 'tcp',
        host: input.host ?? DEFAULT_HOST,
        port: parsePort(String(input.port), String(input.port)),
      };
      if ('tls' in input && input.tls === true) endpoint.tls = true;
      return endpoint;
    }
  }
  throw new InvalidOptionError(
    `endpoint: expected a string, { path } or { host, port }, received ${typeof input === 'object' ? JSON.stringify(input) : typeof input}`,
  );
}

function unixEndpoint(path: string, input: string): UnixEndpoint {
  if (path === '') {
    throw new InvalidOptionError(
      `endpoint ${JSON.stringify(input)}: expected a socket path, received none`,
    );
  }
  return { kind: 'unix', path };
}

/** The endpoint as a string, as `parseEndpoint` reads it back. */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.kind === 'unix') return `unix:${endpoint.path}`;
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.tls ? 'tls' : 'tcp'}://${host}:${endpoint.port}`;
}

/**
 * True for an address only this machine reaches: 127.0.0.0/8, ::1 (also IPv4-mapped), and
 * the name `localhost`. Any other name is not: what it resolves to is checked instead.
 */
export function isLoopback(host: string): boolean {
  const address = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (address === 'localhost' || address === '::1' || address === '0:0:0:0:0:0:0:1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
