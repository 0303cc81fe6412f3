/**
 * The opening exchange of one connection, in the worker that was handed it, before any
 * user code runs for it: the TLS handshake (TLS is terminated here, not in the supervisor,
 * which hands the socket over with only what it read while the client waited), then the
 * client's `open`, or, with `auth`, a
 * challenge and the client's answer, checked in constant time. It ends in `onOpen`, with
 * what it learned about the peer and the bytes that came after, or in `onRejected`: a
 * stranger that stays silent, fails the handshake or the challenge, or breaks the protocol
 * never gets further, and the worker (nothing ran for that peer) goes back to being a
 * spare. The whole exchange is bounded by `handshakeTimeout`; with `auth`, its frames by
 * `OPENING_MAX_FRAME_BYTES` (without, a larger first frame is an older client's call).
 *
 * @module
 */
import type { Socket } from 'node:net';
import type { TLSSocket, Server as TlsServer } from 'node:tls';
import {
  AuthFailedError,
  type Peer,
  PROTOCOL_VERSION,
  ProtocolError,
  type TaskpoolError,
  TimeoutError,
} from '@taskpool/protocol';
import {
  AUTH_METHOD,
  type AuthMessage,
  authMac,
  encodeFrame,
  FRAME_HEADER_BYTES,
  type HelloMessage,
  type Message,
  macMatches,
  newNonce,
  OPENING_MAX_FRAME_BYTES,
  parseMessage,
  sessionBinding,
} from '@taskpool/protocol/internal';
import { refuseStranger } from './refuse-stranger.js';

/** Why a connection was turned away before it was served (counted in `stats().rejected`). */
export type OpeningRejection =
  | 'handshake-timeout'
  | 'tls-failed'
  | 'auth-failed'
  | 'protocol-error'
  /** The client left before the exchange was over: not counted. */
  | 'closed';

/** What the worker enforces, from the server's options. */
export interface OpeningSecurity {
  transport: 'unix' | 'tcp';
  /** The worker's TLS server (never listening: sockets are handed to it). */
  tls: { server: TlsServer; requestCert: boolean } | undefined;
  /** The keys of `auth`, by key id; undefined without `auth`. */
  keys: ReadonlyMap<string, Buffer> | undefined;
  timeout: number;
}

/** What a finished exchange hands to the connection. */
interface Opened {
  socket: Socket;
  /** Bytes received after the exchange (the first calls, often). */
  rest: Buffer;
  peer: Peer;
}

interface OpeningOptions {
  socket: Socket;
  /** Bytes the client sent while it waited for a worker. */
  head: Buffer | undefined;
  security: OpeningSecurity;
  /** The server's `maxFrameBytes`: the most an older client's first call may be. */
  maxFrameBytes: number;
  /** The worker's hello for `peer`; `mac` is the server's proof after `auth`. */
  hello: (peer: Peer, mac: string | undefined) => HelloMessage;
  onOpen: (opened: Opened) => void;
  onRejected: (reason: OpeningRejection) => void;
}

/** The messages a client may open with, besides `open`: those of clients before version 4. */
const OLD_CLIENT_FIRST = new Set<Message['type']>(['call', 'done', 'stats', 'cancel', 'credit']);

/** `tls` before the handshake is over, `waiting` for `open` or `auth`, then settled. */
type Phase = 'created' | 'tls' | 'waiting' | 'settled';

const NO_BYTES = Buffer.alloc(0);

/** The key an unknown key id is checked against (and always fails). */
const UNKNOWN_KEY = Buffer.alloc(32);

/** The first byte of a TLS handshake record: a ClientHello starts with it. */
const TLS_HANDSHAKE_RECORD = 0x16;

/** What a verified client certificate says about its holder. */
function certificatePeer(socket: TLSSocket): Pick<Peer, 'subject' | 'san' | 'fingerprint'> {
  const certificate = socket.getPeerCertificate();
  if (!certificate || Object.keys(certificate).length === 0) {
    return { subject: null, san: [], fingerprint: null };
  }
  const subject = Object.entries(certificate.subject ?? {})
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(',');
  const san = certificate.subjectaltname ? certificate.subjectaltname.split(', ') : [];
  return { subject: subject || null, san, fingerprint: certificate.fingerprint256 ?? null };
}

export class OpeningExchange {
  readonly #options: OpeningOptions;
  #phase: Phase = 'created';
  #socket: Socket;
  #peer: Peer;
  #buffer: Buffer = NO_BYTES;
  readonly #timer: NodeJS.Timeout;
  /** The nonce of the challenge sent, with `auth`. */
  #nonce: string | undefined;
  /** The session's exporter value under TLS (binds the login to it), else empty. */
  #binding: Uint8Array = NO_BYTES;

  constructor(options: OpeningOptions) {
    this.#options = options;
    const { socket, security } = options;
    this.#socket = socket;
    this.#peer = {
      transport: security.transport,
      address: security.transport === 'unix' ? null : (socket.remoteAddress ?? null),
      keyId: null,
      subject: null,
      san: [],
      fingerprint: null,
      authenticated: false,
    };
    this.#timer = setTimeout(
      () =>
        this.#reject(
          'handshake-timeout',
          new TimeoutError(security.timeout, {
            detail: 'in the opening exchange (handshakeTimeout): the connection is closed',
          }),
        ),
      security.timeout,
    );
  }

  /**
   * Begins the exchange. Apart from the constructor, so that an exchange that ends at
   * once (the bytes that came while it waited say enough) ends after its owner holds it.
   */
  start(): void {
    const { socket, security, head } = this.#options;
    if (security.tls) {
      this.#phase = 'tls';
      this.#firstBytes(security.tls, head);
    } else {
      this.#phase = 'waiting';
      this.#listen(socket);
      this.#greet();
      if (head && head.length > 0) this.#onData(head);
    }
  }

  /**
   * Reads the client's first bytes before TLS takes the socket: a client that does not
   * open with a TLS handshake record is told so in plaintext, which it can read (a TLS
   * server would close without a word), and waiting would not help it.
   */
  #firstBytes(tls: NonNullable<OpeningSecurity['tls']>, head: Buffer | undefined): void {
    const raw = this.#socket;
    const decide = (first: Buffer) => {
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        this.#startTls(tls, first);
        return;
      }
      this.#phase = 'waiting';
      this.#reject(
        'tls-failed',
        new ProtocolError('this server speaks TLS: connect with tls://host:port (or option tls)', {
          code: 'INCOMPATIBLE_PROTOCOL',
        }),
      );
    };
    if (head && head.length > 0) {
      decide(head);
      return;
    }
    const onData = (chunk: Buffer) => {
      raw.off('close', this.#onClose);
      raw.pause();
      decide(chunk);
    };
    raw.once('data', onData);
    raw.once('close', this.#onClose);
    raw.on('error', () => {});
  }

  /**
   * Hands the socket to the worker's TLS server (never listening), which does the
   * handshake and, with `requestCert`, checks the client's certificate against `ca`: a
   * TLSSocket made by hand would accept a certificate from any CA. Every failure of the
   * handshake closes the socket; a client whose certificate does not verify completes it
   * (TLS 1.3 lets the client finish first) and is told why over the session.
   */
  #startTls(tls: NonNullable<OpeningSecurity['tls']>, head: Buffer): void {
    const raw = this.#socket;
    // What came first (its ClientHello) goes back: a TLSSocket reads what its socket
    // already holds before it reads the socket.
    raw.unshift(head);
    const failed = () => this.#reject('tls-failed');
    // One exchange at a time in a worker, and a destroyed socket is never announced: the
    // next secure connection of the server is this one's.
    const onSecure = (secure: TLSSocket) => {
      this.#stopTls();
      if (this.#phase !== 'tls') {
        secure.destroy();
        return;
      }
      this.#socket = secure;
      this.#phase = 'waiting';
      this.#listen(secure);
      if (tls.requestCert && !secure.authorized) {
        this.#reject(
          'tls-failed',
          new AuthFailedError(
            `the client certificate was not accepted: ${String(secure.authorizationError ?? 'none was sent')}`,
          ),
        );
        return;
      }
      this.#binding = sessionBinding(secure);
      const certificate = tls.requestCert ? certificatePeer(secure) : undefined;
      this.#peer = {
        ...this.#peer,
        transport: 'tls',
        ...certificate,
        authenticated: certificate !== undefined,
      };
      this.#greet();
    };
    this.#stopTls = () => {
      tls.server.off('secureConnection', onSecure);
      raw.off('close', failed);
      this.#stopTls = () => {};
    };
    raw.once('close', failed);
    tls.server.on('secureConnection', onSecure);
    tls.server.emit('connection', raw);
  }

  /** Stops waiting for the TLS handshake (see `#startTls`). */
  #stopTls: () => void = () => {};

  #listen(socket: Socket): void {
    socket.on('data', this.#onData);
    socket.on('error', this.#onClose);
    socket.on('close', this.#onClose);
  }

  #unlisten(): void {
    this.#socket.off('data', this.#onData);
    this.#socket.off('error', this.#onClose);
    this.#socket.off('close', this.#onClose);
  }

  readonly #onClose = (): void => this.#reject('closed');

  /** A challenge with `auth`; otherwise the hello, at once: the client waits for nothing. */
  #greet(): void {
    if (this.#options.security.keys) {
      this.#nonce = newNonce();
      this.#write({
        type: 'challenge',
        protocol: PROTOCOL_VERSION,
        methods: [AUTH_METHOD],
        nonce: this.#nonce,
      });
    } else {
      this.#write(this.#options.hello(this.#peer, undefined));
    }
  }

  #write(message: Message): void {
    this.#socket.write(encodeFrame(message));
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#phase !== 'waiting') return;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    try {
      this.#readFrames();
    } catch (error) {
      this.#reject('protocol-error', error as TaskpoolError);
    }
  };

  /** Reads whole frames until the exchange is over or the next frame is incomplete. */
  #readFrames(): void {
    const auth = this.#options.security.keys !== undefined;
    while (this.#phase === 'waiting' && this.#buffer.length >= FRAME_HEADER_BYTES) {
      const size = this.#buffer.readUInt32BE(0);
      if (size > OPENING_MAX_FRAME_BYTES) {
        if (!auth && size <= this.#options.maxFrameBytes) {
          // Larger than an `open`: an older client's first call. Served as it is.
          this.#open(this.#buffer);
          return;
        }
        throw new ProtocolError(
          auth
            ? `frame length ${size} exceeds ${OPENING_MAX_FRAME_BYTES} bytes before authentication`
            : `frame length ${size} exceeds maxFrameBytes ${this.#options.maxFrameBytes}`,
        );
      }
      const end = FRAME_HEADER_BYTES + size;
      if (this.#buffer.length < end) return;
      const frame = this.#buffer;
      let value: unknown;
      try {
        value = JSON.parse(frame.toString('utf8', FRAME_HEADER_BYTES, end));
      } catch {
        throw new ProtocolError('a frame of the opening exchange is not JSON');
      }
      const message = parseMessage(value);
      this.#buffer = frame.subarray(end);
      if (message.type === 'open') {
        // Without auth, `open` ends the exchange; with it, the answer to the challenge does.
        if (auth) continue;
        this.#open(this.#buffer);
        return;
      }
      if (auth) {
        if (message.type !== 'auth') {
          this.#reject(
            'auth-failed',
            new AuthFailedError(
              `the server requires authentication: expected auth, received ${message.type}`,
            ),
          );
          return;
        }
        this.#checkAuth(message);
        return;
      }
      if (!OLD_CLIENT_FIRST.has(message.type)) {
        throw new ProtocolError(`a client may not send ${message.type} messages`);
      }
      // An older client opens with its first call: that frame is the connection's.
      this.#open(frame);
      return;
    }
  }

  #checkAuth(message: AuthMessage): void {
    const known = this.#options.security.keys?.get(message.keyId);
    // An unknown key id costs the same MAC as a known one: timing does not say which exist.
    const key = known ?? UNKNOWN_KEY;
    const transcript = {
      keyId: message.keyId,
      serverNonce: this.#nonce as string,
      clientNonce: message.nonce,
      binding: this.#binding,
    };
    const valid =
      known !== undefined &&
      message.method === AUTH_METHOD &&
      macMatches(authMac(key, 'client', transcript), message.mac);
    if (!valid) {
      // Which part was wrong (the key id, the method, the MAC) is not said to a stranger.
      this.#reject('auth-failed', new AuthFailedError('authentication failed'));
      return;
    }
    this.#peer = { ...this.#peer, keyId: message.keyId, authenticated: true };
    this.#write(this.#options.hello(this.#peer, authMac(key, 'server', transcript)));
    this.#open(this.#buffer);
  }

  #open(rest: Buffer): void {
    this.#phase = 'settled';
    clearTimeout(this.#timer);
    this.#unlisten();
    this.#options.onOpen({ socket: this.#socket, rest, peer: this.#peer });
  }

  /** Turns the connection away, telling the client why when it still can. */
  #reject(reason: OpeningRejection, error?: TaskpoolError): void {
    if (this.#phase === 'settled') return;
    // Before the TLS handshake is over there is no session to tell the client on.
    const canTell = this.#phase === 'waiting';
    this.#phase = 'settled';
    clearTimeout(this.#timer);
    this.#stopTls();
    this.#unlisten();
    // A client told why goes after it has read it; the worker is free at once either way.
    if (canTell && error) refuseStranger(this.#socket, error);
    else this.#socket.destroy();
    this.#options.onRejected(reason);
  }
}
