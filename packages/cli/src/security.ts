/**
 * How a command is protected: the one place that turns the `--tls-*`, `--auth-*`,
 * `--insecure` and `--handshake-timeout` options into the options of `createClient` (for
 * `call`, `describe`, `types`, `status` and `bench`) or of `createServer` (for `serve`).
 *
 * Keys and certificates are passed on as `{ file }` sources, and the shared secret as
 * `{ env: 'TASKPOOL_AUTH_KEY' }` when no `--auth-key-file` names one, so the client or the
 * server reads them itself: a server reads them again on a rolling restart (SIGHUP), so a
 * renewed certificate or key file is picked up.
 *
 * @module
 */
import type { ClientOptions } from '@taskpool/client';
import { MAX_TIMER_MS, type SecretSource } from '@taskpool/protocol';
import type { ServerOptions } from '@taskpool/server';
import { integerOption, UsageError } from './usage.js';

/** The environment variable the shared secret is read from when no file is named. */
export const AUTH_KEY_ENV = 'TASKPOOL_AUTH_KEY';

/** The key id when `--auth-key-id` does not name one. */
const DEFAULT_KEY_ID = 'default';

/** The string options of every command that connects to a server. */
export const CONNECT_OPTIONS = [
  'tls-ca',
  'tls-cert',
  'tls-key',
  'tls-servername',
  'auth-key-file',
  'auth-key-id',
] as const;

/** The flags of every command that connects to a server. */
export const CONNECT_FLAGS = ['insecure'] as const;

/** The string options of `serve` that protect it. */
export const SERVE_SECURITY_OPTIONS = [
  'tls-key',
  'tls-cert',
  'tls-ca',
  'auth-key-file',
  'auth-key-id',
  'handshake-timeout',
] as const;

/** The flags of `serve` that protect it (or say it need not be). */
export const SERVE_SECURITY_FLAGS = ['insecure', 'tls-request-cert'] as const;

type Values<TName extends string, TFlag extends string> = Partial<Record<TName, string>> &
  Partial<Record<TFlag, boolean>>;

/** What `createClient` is given to reach a server as the command line asks. */
export type ConnectSecurity = Pick<ClientOptions, 'tls' | 'auth' | 'insecure'>;

/**
 * The shared secret and its id: `--auth-key-file`, else `TASKPOOL_AUTH_KEY` when it is set
 * (set but empty, the client or server refuses it, rather than go without); undefined for
 * neither. An `--auth-key-id` without a key is bad usage.
 */
function authKey(
  values: Values<'auth-key-file' | 'auth-key-id', never>,
): { keyId: string; key: SecretSource } | undefined {
  const file = values['auth-key-file'];
  const keyId = values['auth-key-id'];
  if (keyId === '') throw new UsageError('--auth-key-id: expected a key id, received ""');
  const key: SecretSource | undefined =
    file !== undefined
      ? { file }
      : process.env[AUTH_KEY_ENV] !== undefined
        ? { env: AUTH_KEY_ENV }
        : undefined;
  if (key === undefined) {
    if (keyId === undefined) return undefined;
    throw new UsageError(
      `--auth-key-id names the key of --auth-key-file (or of ${AUTH_KEY_ENV}): neither is given`,
    );
  }
  return { keyId: keyId ?? DEFAULT_KEY_ID, key };
}

/**
 * The client's `tls`, `auth` and `insecure` from a command's options. Any `--tls-*` option
 * makes every `tcp://` endpoint TLS too (a `tls://` endpoint is TLS without one).
 */
export function connectSecurity(
  values: Values<(typeof CONNECT_OPTIONS)[number], (typeof CONNECT_FLAGS)[number]>,
): ConnectSecurity {
  const ca = values['tls-ca'];
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  const servername = values['tls-servername'];
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(
      '--tls-cert and --tls-key go together: a client certificate and its private key',
    );
  }
  const tls =
    ca === undefined && cert === undefined && key === undefined && servername === undefined
      ? undefined
      : {
          ...(ca !== undefined ? { ca: { file: ca } } : {}),
          ...(cert !== undefined ? { cert: { file: cert } } : {}),
          ...(key !== undefined ? { key: { file: key } } : {}),
          ...(servername !== undefined ? { servername } : {}),
        };
  const auth = authKey(values);
  return {
    ...(tls !== undefined ? { tls } : {}),
    ...(auth !== undefined ? { auth } : {}),
    ...(values.insecure === true ? { insecure: true } : {}),
  };
}

/**
 * The server's `tls`, `auth`, `insecure` and `handshakeTimeout` from `serve`'s options.
 * When `TASKPOOL_AUTH_KEY` is set, the workers' environment is this one without it: they
 * get the key from their supervisor, and the user code they run has no use for it.
 */
export function serveSecurity(
  values: Values<(typeof SERVE_SECURITY_OPTIONS)[number], (typeof SERVE_SECURITY_FLAGS)[number]>,
): Pick<ServerOptions, 'tls' | 'auth' | 'insecure' | 'handshakeTimeout' | 'env'> {
  const key = values['tls-key'];
  const cert = values['tls-cert'];
  const ca = values['tls-ca'];
  if ((key === undefined) !== (cert === undefined)) {
    throw new UsageError(
      '--tls-key and --tls-cert go together: the server certificate and its private key',
    );
  }
  if (key === undefined && (ca !== undefined || values['tls-request-cert'] === true)) {
    throw new UsageError(
      `${ca !== undefined ? '--tls-ca' : '--tls-request-cert'} is for a TLS server: give --tls-key and --tls-cert too`,
    );
  }
  if (values['tls-request-cert'] === true && ca === undefined) {
    throw new UsageError(
      '--tls-request-cert needs --tls-ca: the CA that client certificates must chain to',
    );
  }
  const auth = authKey(values);
  const handshakeTimeout = integerOption('handshake-timeout', values['handshake-timeout'], {
    min: 1,
    max: MAX_TIMER_MS,
  });
  return {
    ...(key !== undefined && cert !== undefined
      ? {
          tls: {
            key: { file: key },
            cert: { file: cert },
            ...(ca !== undefined ? { ca: { file: ca } } : {}),
            ...(values['tls-request-cert'] === true ? { requestCert: true } : {}),
          },
        }
      : {}),
    ...(auth !== undefined ? { auth: { keys: { [auth.keyId]: auth.key } } } : {}),
    ...(values.insecure === true ? { insecure: true } : {}),
    ...(handshakeTimeout !== undefined ? { handshakeTimeout } : {}),
    ...(process.env[AUTH_KEY_ENV] !== undefined ? { env: withoutAuthKey(process.env) } : {}),
  };
}

/** This environment without the shared secret. */
function withoutAuthKey(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [AUTH_KEY_ENV]: _secret, ...rest } = env;
  return rest;
}

/**
 * Why a server's worker said hello without its interface, or undefined when it sent it:
 * the server keeps it from peers that neither authenticated nor came over its Unix socket.
 */
export function withheldInterface(
  endpoint: string,
  hello: { interfaceWithheld?: boolean | undefined } | undefined,
): string | undefined {
  if (hello?.interfaceWithheld !== true) return undefined;
  return `the server at ${endpoint} withholds its interface from unauthenticated peers: connect over its Unix socket, or with --auth-key-file (or ${AUTH_KEY_ENV}), or a client certificate (--tls-cert, --tls-key)`;
}

/**
 * What the client and the server advise, in the API's words (`set insecure: true`,
 * `option tls.ca`), and what a user of the command line does instead.
 */
const COMMAND_LINE_TERMS: [RegExp, string][] = [
  [
    /\bset option auth \(\{ keyId, key \}\)/g,
    `give its key with --auth-key-file (or ${AUTH_KEY_ENV})`,
  ],
  [/\bset option auth\b/g, 'give --auth-key-file'],
  [/\((?:or )?option tls\)/g, '(or --tls-ca)'],
  [/\bset tls \(and auth\)/g, 'give --tls-key and --tls-cert (and --auth-key-file)'],
  [/\bor set insecure: true\b/g, 'or give --insecure'],
  [/\b(?:createClient|createServer): option tls\.(ca|cert|key)\b/g, '--tls-$1'],
  [/\bcreateServer: option tls\b(?!\.)/g, '--tls-key, --tls-cert'],
  [
    /\b(?:createClient: option auth\.key|createServer: option auth\.keys\.[^\s:]+)/g,
    `--auth-key-file (or ${AUTH_KEY_ENV})`,
  ],
];

/**
 * An error's line as a user of the command line reads it: the client's and server's
 * advice in options of the command line (`or give --insecure`, not `or set insecure:
 * true`), and an unreadable key named by its option (`--tls-key: expected a readable
 * file, received …`).
 */
export function inCommandLineTerms(line: string): string {
  return COMMAND_LINE_TERMS.reduce((said, [api, flags]) => said.replace(api, flags), line);
}
