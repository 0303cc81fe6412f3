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

/** A TCP host and port. */
export interface TcpEndpoint {
  kind: 'tcp';
  host: string;
  port: number;
}

export type Endpoint = UnixEndpoint | TcpEndpoint;

/** What users may write for an endpoint. */
export type EndpointInput = string | { path: string } | { host?: string; port: number } | Endpoint;

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
 * Parses `unix:/path`, `/absolute/path`, `tcp://host:port`, `tcp://:port`, `{ path }` or
 * `{ host, port }`. TCP defaults to 127.0.0.1.
 */
export function parseEndpoint(input: EndpointInput): Endpoint {
  if (typeof input === 'string') {
    if (input.startsWith('unix:')) return unixEndpoint(input.slice('unix:'.length), input);
    if (input.startsWith('/')) return unixEndpoint(input, input);
    if (input.startsWith('tcp://')) {
      const rest = input.slice('tcp://'.length);
      const colon = rest.lastIndexOf(':');
      if (colon < 0) {
        throw new InvalidOptionError(
          `endpoint ${JSON.stringify(input)}: expected tcp://host:port, received no port`,
        );
      }
      const host = rest.slice(0, colon).replace(/^\[(.*)\]$/, '$1') || DEFAULT_HOST;
      return { kind: 'tcp', host, port: parsePort(rest.slice(colon + 1), input) };
    }
    throw new InvalidOptionError(
      `endpoint: expected "unix:/path", an absolute path or "tcp://host:port", received ${JSON.stringify(input)}`,
    );
  }
  if (typeof input === 'object' && input !== null) {
    if ('kind' in input && (input.kind === 'unix' || input.kind === 'tcp')) return input;
    if ('path' in input && typeof input.path === 'string')
      return unixEndpoint(input.path, input.path);
    if ('port' in input && typeof input.port === 'number') {
      return {
        kind: 'tcp',
        host: input.host ?? DEFAULT_HOST,
        port: parsePort(String(input.port), String(input.port)),
      };
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
  return endpoint.kind === 'unix'
    ? `unix:${endpoint.path}`
    : `tcp://${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}
