/**
 * One connection to one worker, from the client's side: connect (over TLS when asked),
 * open with `open`, answer the server's challenge when it has `auth` and check its proof
 * in `hello`, then send calls and route each reply to its call by id, honour `retire`, and
 * report the end of the connection exactly once: to the pool, to the checkout holding it
 * (even with no call in flight), and to every call waiting for a reply. A closed
 * connection sends nothing.
 *
 * @module
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { getSystemErrorMap } from 'node:util';
import {
  AuthFailedError,
  type Endpoint,
  formatEndpoint,
  isTaskpoolError,
  PROTOCOL_VERSION,
  ProtocolError,
  type ServerStatsSnapshot,
  type TaskpoolError,
  TimeoutError,
  WorkerLostError,
} from '@taskpool/protocol';
import {
  AUTH_METHOD,
  type AuthTranscript,
  authMac,
  type CallMessage,
  type ChallengeMessage,
  type ErrorMessage,
  FrameDecoder,
  FrameWriter,
  fromWire,
  type HelloMessage,
  type Message,
  macMatches,
  newNonce,
  parseMessage,
  type ResultMessage,
  sessionBinding,
} from '@taskpool/protocol/internal';
import { type ClientSecurity, openSocket, usesTls } from './connection-security.js';
import { type Deadline, DeadlineQueue } from './deadline-queue.js';

/** A call waiting for its reply. */
export interface PendingCall extends Deadline {
  /** Receives the reply, or the error that ended the connection first. */
  reply(reply: ResultMessage | ErrorMessage | TaskpoolError): void;
  /** A stream receives its items here; a plain call has none (an item for it is an error). */
  item?(value: unknown): void;
  /**
   * A stats request receives the server's stats here (and a failure through `reply`); a
   * call has none, and a stats request gets no `result`.
   */
  stats?(stats: ServerStatsSnapshot): void;
}

/** The oldest protocol version this client speaks (a version-1 worker cannot stream). */
const OLDEST_PROTOCOL_VERSION = 1;

/** The first protocol version with streams. */
export const STREAMS_PROTOCOL_VERSION = 2;

/** The first protocol version with stats requests. */
export const STATS_PROTOCOL_VERSION = 3;

/**
 * Where a connection is in its life: `connecting` until the worker's hello, `open` while
 * it can carry calls, `closed` once it ended (for any reason, exactly once).
 */
type ConnectionState = 'connecting' | 'open' | 'closed';

/** What the pool hears from a connection it opened. */
interface ConnectionEvents {
  /** The connection ended (for any reason), with the error to give in-flight calls. */
  onClosed: (connection: Connection, error: TaskpoolError) => void;
  /** The worker said it will not serve another checkout. */
  onRetire: (connection: Connection) => void;
}

/** The checkout holding a connection: told when the connection ends. */
export interface ConnectionOwner {
  onConnectionClosed(error: TaskpoolError): void;
}

let nextConnectionId = 1;

/**
 * A TLS failure, by its code: OpenSSL's (`ERR_SSL_…`), Node's (`ERR_TLS_…`), or a
 * certificate check's (`SELF_SIGNED_CERT_IN_CHAIN`, `CERT_HAS_EXPIRED`, …: upper case,
 * never `E…` as system errors are).
 */
function isTlsFailure(error: Error): boolean {
  const { code } = error as NodeJS.ErrnoException;
  if (typeof code !== 'string' || isTaskpoolError(error)) return false;
  return /^ERR_(SSL|TLS)_/.test(code) || (!code.startsWith('E') && /^[A-Z0-9_]+$/.test(code));
}

/** A TLS record's first bytes (a handshake or an alert, TLS 1.x): the server speaks TLS. */
function looksLikeTls(chunk: Buffer): boolean {
  return chunk.length >= 2 && (chunk[0] === 0x15 || chunk[0] === 0x16) && chunk[1] === 0x03;
}

/** What a connection needs to open. */
interface OpenOptions {
  maxFrameBytes: number;
  /** How long the opening exchange may take, connecting included. */
  timeout: number;
  security: ClientSecurity;
}

export class Connection {
  readonly id = nextConnectionId++;
  readonly endpoint: Endpoint;
  #state: ConnectionState = 'connecting';
  #hello: HelloMessage | undefined;
  /** The worker sent `retire`: it serves the current checkout, then is closed. */
  #retiring = false;
  /** Failed calls seen on this connection (see the protocol's `failures`). */
  #failures = 0;
  readonly #socket: Socket;
  readonly #writer: FrameWriter;
  readonly #decoder: FrameDecoder;
  readonly #pending = new Map<number, PendingCall>();
  /** The deadlines of the calls in #pending, under one timer. */
  readonly #deadlines = new DeadlineQueue();
  readonly #events: ConnectionEvents;
  /** The checkout holding this connection, if any. */
  #owner: ConnectionOwner | undefined;
  #nextCallId = 1;
  #closeError: TaskpoolError | undefined;

  private constructor(
    endpoint: Endpoint,
    socket: Socket,
    maxFrameBytes: number,
    events: ConnectionEvents,
  ) {
    this.endpoint = endpoint;
    this.#events = events;
    this.#decoder = new FrameDecoder({ maxFrameBytes });
    this.#socket = socket;
    this.#socket.setNoDelay?.(true);
    this.#writer = new FrameWriter(this.#socket, maxFrameBytes);
  }

  /**
   * Connects and completes the opening exchange. Rejects (and leaves nothing open) with
   * what went wrong, as it came, so that a caller can say why no worker came: the socket's
   * own error (`ENOENT`, `ECONNREFUSED`, ...), the error the server sent instead of hello
   * (`SERVER_BUSY`, `WORKER_START_FAILED`, `AUTH_FAILED`), `AUTH_FAILED` for a TLS
   * handshake that failed or a server that could not prove it holds the key,
   * `INSECURE_CONNECT`, a `TIMEOUT` when it did not finish within `timeout` ms,
   * `WORKER_LOST` when the socket closed first, or a `PROTOCOL_ERROR`.
   */
  static open(
    endpoint: Endpoint,
    options: OpenOptions,
    events: ConnectionEvents,
  ): Promise<Connection> {
    let socket: Socket;
    try {
      socket = openSocket(endpoint, options.security);
    } catch (error) {
      return Promise.reject(error);
    }
    const connection = new Connection(endpoint, socket, options.maxFrameBytes, events);
    return connection.#handshake(options.timeout, options.security);
  }

  #handshake(timeout: number, security: ClientSecurity): Promise<Connection> {
    const socket = this.#socket;
    const tls = usesTls(this.endpoint, security);
    // The client speaks first: a server drops a connection that says nothing.
    this.#writer.send({ type: 'open', protocol: PROTOCOL_VERSION });
    return new Promise((resolve, reject) => {
      /** What the MACs cover, once the server's challenge has been answered. */
      let transcript: AuthTranscript | undefined;
      let received = false;
      const fail = (error: Error) => {
        clearTimeout(timer);
        this.#state = 'closed';
        socket.destroy();
        reject(tls ? this.#tlsFailure(error, secured) : error);
      };
      /** The TLS handshake is over (a TLS connection only). */
      let secured = false;
      if (tls) socket.once('secureConnect', () => (secured = true));
      const timer = setTimeout(() => {
        const error = new TimeoutError(timeout, {
          detail: socket.connecting ? 'connecting' : "waiting for the worker's hello",
        });
        fail(error);
      }, timeout);
      // The socket's own error (ENOENT, ECONNREFUSED, ...): the caller reports its code.
      const onError = (error: Error) => fail(error);
      const onClose = () => fail(new WorkerLostError('closed before hello'));
      socket.once('error', onError);
      socket.once('close', onClose);
      const onFirst = (chunk: Buffer) => {
        if (!received && !tls && looksLikeTls(chunk)) {
          // Waiting would not help: INCOMPATIBLE_PROTOCOL fails the waiting checkouts at once.
          fail(
            new ProtocolError(
              `${formatEndpoint(this.endpoint)} answered with TLS: connect with tls://host:port (or option tls)`,
              { code: 'INCOMPATIBLE_PROTOCOL' },
            ),
          );
          return;
        }
        received = true;
        let messages: unknown[];
        try {
          messages = this.#decoder.push(chunk);
        } catch (error) {
          fail(error as TaskpoolError);
          return;
        }
        for (let index = 0; index < messages.length; index++) {
          let message: Message;
          try {
            message = parseMessage(messages[index]);
          } catch (error) {
            fail(error as TaskpoolError);
            return;
          }
          if (message.type === 'error') {
            // The server refuses this connection before any worker took it (SERVER_BUSY,
            // WORKER_START_FAILED), or its worker did (AUTH_FAILED): the pool decides
            // whether to wait or give up.
            fail(fromWire(message.error));
            return;
          }
          if (message.type === 'challenge') {
            const answer = this.#answer(message, security, tls, transcript);
            if (answer instanceof Error) {
              fail(answer);
              return;
            }
            transcript = answer;
            continue;
          }
          if (message.type !== 'hello') {
            fail(new ProtocolError(`expected hello, received ${message.type}`));
            return;
          }
          const problem = this.#checkHello(message, security, transcript);
          if (problem) {
            fail(problem);
            return;
          }
          clearTimeout(timer);
          socket.off('data', onFirst);
          socket.off('error', onError);
          socket.off('close', onClose);
          this.#hello = message;
          this.#state = 'open';
          socket.on('data', (data: Buffer) => this.#onData(data));
          socket.on('error', (error) =>
            this.#end(new WorkerLostError(error.message, { cause: error })),
          );
          socket.on('close', () => this.#end(new WorkerLostError()));
          for (const rest of messages.slice(index + 1)) this.#onMessage(rest);
          resolve(this);
          return;
        }
      };
      socket.on('data', onFirst);
    });
  }

  /**
   * What a TLS connection's error means: a handshake the server's certificate failed, or
   * a server that answered in plaintext, is no reason to try again (`AUTH_FAILED`,
   * `INCOMPATIBLE_PROTOCOL`); other errors are returned as they are.
   */
  #tlsFailure(error: Error, secured: boolean): Error {
    const where = formatEndpoint(this.endpoint);
    if (!secured && (error as NodeJS.ErrnoException).code === 'EPROTO') {
      return new ProtocolError(
        `${where} did not answer with TLS: it may be a plaintext server (connect with tcp://): ${error.message}`,
        { code: 'INCOMPATIBLE_PROTOCOL', cause: error },
      );
    }
    if (isTlsFailure(error)) {
      return new AuthFailedError(`the TLS handshake with ${where} failed: ${error.message}`, {
        cause: error,
      });
    }
    return error;
  }

  /**
   * Answers the server's challenge with this client's key: sends `auth` and returns what
   * the server's proof must cover, or the error that ends the exchange.
   */
  #answer(
    challenge: ChallengeMessage,
    security: ClientSecurity,
    tls: boolean,
    previous: AuthTranscript | undefined,
  ): AuthTranscript | Error {
    const { auth } = security;
    if (previous) return new ProtocolError('a second challenge');
    if (!auth) {
      return new AuthFailedError(
        `${formatEndpoint(this.endpoint)} requires authentication: set option auth ({ keyId, key })`,
      );
    }
    if (!challenge.methods.includes(AUTH_METHOD)) {
      return new AuthFailedError(
        `the server offers ${challenge.methods.join(', ') || 'no method'}; this client speaks ${AUTH_METHOD}`,
      );
    }
    const transcript: AuthTranscript = {
      keyId: auth.keyId,
      serverNonce: challenge.nonce,
      clientNonce: newNonce(),
      binding: tls ? sessionBinding(this.#socket as TLSSocket) : Buffer.alloc(0),
    };
    this.#writer.send({
      type: 'auth',
      method: AUTH_METHOD,
      keyId: auth.keyId,
      nonce: transcript.clientNonce,
      mac: authMac(auth.key, 'client', transcript),
    });
    return transcript;
  }

  /** Why `hello` cannot be accepted, or undefined: its version, and its proof of the key. */
  #checkHello(
    hello: HelloMessage,
    security: ClientSecurity,
    transcript: AuthTranscript | undefined,
  ): TaskpoolError | undefined {
    if (hello.protocol < OLDEST_PROTOCOL_VERSION || hello.protocol > PROTOCOL_VERSION) {
      return new ProtocolError(
        `the worker speaks protocol ${hello.protocol}, this client ${OLDEST_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}`,
        { code: 'INCOMPATIBLE_PROTOCOL' },
      );
    }
    const { auth } = security;
    if (!auth) return undefined;
    if (!transcript) {
      return new AuthFailedError(
        `${formatEndpoint(this.endpoint)} did not ask this client to authenticate, so it cannot prove it holds key ${JSON.stringify(auth.keyId)}: it has no auth, or it is not the server this key is for`,
      );
    }
    const expected = authMac(auth.key, 'server', transcript);
    if (hello.auth === undefined || !macMatches(expected, hello.auth.mac)) {
      return new AuthFailedError(
        `${formatEndpoint(this.endpoint)} could not prove it holds key ${JSON.stringify(auth.keyId)}`,
      );
    }
    return undefined;
  }

  /** The worker's hello (undefined until connected). */
  get hello(): HelloMessage | undefined {
    return this.#hello;
  }

  get pid(): number | undefined {
    return this.#hello?.pid;
  }

  /** Not closed (still connecting, or open). */
  get isOpen(): boolean {
    return this.#state !== 'closed';
  }

  /** The worker sent `retire`: it serves the current checkout, then is closed. */
  get retiring(): boolean {
    return this.#retiring;
  }

  /**
   * Failed calls the worker has reported on this connection (see the protocol's
   * `failures`). A call still waiting for its reply that was sent while this was lower will
   * not run: the worker refuses it with `PRECEDING_CALL_FAILED`.
   */
  get failures(): number {
    return this.#failures;
  }

  /** The error that ended the connection, once closed. */
  get closeError(): TaskpoolError | undefined {
    return this.#closeError;
  }

  /**
   * Makes `owner` the one told when this connection ends (the checkout holding it). On a
   * connection already closed, it is told at once.
   */
  attach(owner: ConnectionOwner): void {
    this.#owner = owner;
    if (this.#closeError) owner.onConnectionClosed(this.#closeError);
  }

  /** `owner` gives the connection back: it is no longer told. */
  detach(owner: ConnectionOwner): void {
    if (this.#owner === owner) this.#owner = undefined;
  }

  /**
   * Sends a call and returns its id; `pending` gets its reply, and `expire()` when its
   * `deadline` passes first. `expiresAt` (epoch ms) tells the worker when the caller gives
   * up. `credit`, for a stream, is how many items the worker may send before more are
   * granted. Throws (sending nothing) the close error if the connection is closed, or an
   * error if the call cannot be encoded.
   */
  call(
    pending: PendingCall,
    method: string | null,
    args: unknown[],
    expiresAt: number | undefined,
    scope: Record<string, unknown> | undefined,
    credit?: number,
  ): number {
    if (this.#closeError) throw this.#closeError;
    const id = this.#nextCallId++;
    const message: CallMessage = { type: 'call', id, method, args };
    if (expiresAt !== undefined) message.deadline = expiresAt;
    if (scope !== undefined) message.scope = scope;
    message.failures = this.#failures;
    if (credit !== undefined) message.credit = credit;
    this.#writer.send(message);
    return this.#register(id, pending);
  }

  /** `pending` waits for the reply to `id`, under its deadline; returns `id`. */
  #register(id: number, pending: PendingCall): number {
    this.#pending.set(id, pending);
    if (pending.deadline !== Number.POSITIVE_INFINITY) this.#deadlines.add(pending);
    return id;
  }

  /**
   * True when every call sent before `pending` has had its reply: the worker, which runs
   * calls in order, is running it (or has it next).
   */
  isFirst(pending: PendingCall): boolean {
    return this.#pending.values().next().value === pending;
  }

  /** `pending` settled before its reply came (it was aborted): its deadline no longer counts. */
  settled(pending: PendingCall): void {
    if (pending.deadline !== Number.POSITIVE_INFINITY) this.#deadlines.settled(pending);
  }

  cancel(id: number): void {
    if (this.isOpen) this.#writer.send({ type: 'cancel', id });
  }

  /**
   * Asks the worker for the server's stats; `pending.stats` gets them, `pending.reply` an
   * error (or the error that ended the connection first), and `expire()` is called when
   * its `deadline` passes first. The id comes from the calls' sequence, so that the
   * worker's `error` reply names it unambiguously. Throws the close error if closed.
   */
  stats(pending: PendingCall): number {
    if (this.#closeError) throw this.#closeError;
    const id = this.#nextCallId++;
    this.#writer.send({ type: 'stats', id });
    return this.#register(id, pending);
  }

  /**
   * Grants stream `id` `n` more items, written at once: left for the end of the tick, it
   * would wait for the consumer's loop, which runs in promise jobs, to drain every item
   * already here, and the worker would stop and wait for each window instead of producing
   * the next half while this one is read.
   */
  credit(id: number, n: number): void {
    if (!this.isOpen) return;
    this.#writer.send({ type: 'credit', id, n });
    this.#writer.flush();
  }

  /** Returns the worker to the client's pool: it runs `checkoutDone`. */
  done(): void {
    if (this.isOpen) this.#writer.send({ type: 'done' });
  }

  /** Closes the connection; the worker exits (at once if idle, else when its call returns). */
  close(error: TaskpoolError = new WorkerLostError('closed by the client')): void {
    this.#end(error);
  }

  #onData(chunk: Buffer): void {
    let values: unknown[];
    try {
      values = this.#decoder.push(chunk);
    } catch (error) {
      this.#end(error as TaskpoolError);
      return;
    }
    for (const value of values) {
      if (this.#state === 'closed') return;
      this.#onMessage(value);
    }
  }

  #onMessage(value: unknown): void {
    let message: Message;
    try {
      message = parseMessage(value);
    } catch (error) {
      this.#end(error as TaskpoolError);
      return;
    }
    switch (message.type) {
      case 'result':
      case 'error': {
        if (message.type === 'error' && message.id === 0) {
          this.#end(fromWire(message.error));
          return;
        }
        if (message.type === 'error' && message.failures !== undefined) {
          this.#failures = Math.max(this.#failures, message.failures);
        }
        const pending = this.#pending.get(message.id);
        if (!pending) {
          this.#end(new ProtocolError(`reply to unknown call ${message.id}`));
          return;
        }
        if (message.type === 'result' && pending.stats) {
          this.#end(new ProtocolError(`a result for stats request ${message.id}`));
          return;
        }
        this.#pending.delete(message.id);
        pending.reply(message);
        return;
      }
      case 'stats': {
        const pending = this.#pending.get(message.id);
        const stats = message.stats;
        if (stats === undefined) {
          this.#end(new ProtocolError('a worker may not send stats requests'));
          return;
        }
        if (!pending?.stats) {
          this.#end(
            new ProtocolError(`stats for ${pending ? 'call' : 'unknown call'} ${message.id}`),
          );
          return;
        }
        this.#pending.delete(message.id);
        pending.stats(stats);
        return;
      }
      case 'item': {
        const pending = this.#pending.get(message.id);
        if (!pending?.item) {
          this.#end(
            new ProtocolError(`an item for ${pending ? 'a call' : 'unknown call'} ${message.id}`),
          );
          return;
        }
        pending.item(message.value);
        return;
      }
      case 'retire':
        if (!this.#retiring) {
          this.#retiring = true;
          this.#events.onRetire(this);
        }
        return;
      case 'hello':
      case 'challenge':
      case 'open':
      case 'auth':
      case 'call':
      case 'credit':
      case 'cancel':
      case 'done':
        this.#end(new ProtocolError(`a worker may not send ${message.type} after hello`));
        return;
      default: {
        const unexpected: never = message;
        this.#end(new ProtocolError(`unknown message ${(unexpected as Message).type}`));
      }
    }
  }

  /**
   * Ends the connection once: the pool hears of it, then the checkout holding it (which
   * stores the error as its fatal one), then every call waiting for a reply.
   */
  #end(error: TaskpoolError): void {
    if (this.#closeError) return;
    this.#closeError = error;
    this.#state = 'closed';
    this.#socket.destroy();
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#deadlines.clear();
    this.#events.onClosed(this, error);
    const owner = this.#owner;
    this.#owner = undefined;
    owner?.onConnectionClosed(error);
    for (const call of pending) call.reply(error);
  }
}

/** Descriptions of the system's error numbers, read once: `-2` is `no such file or directory`. */
let systemErrors: Map<number, [string, string]> | undefined;

/**
 * A connect error in a few words, code first: `ENOENT: no such file or directory`,
 * `ECONNREFUSED: connection refused`, `SERVER_BUSY: all 4 workers are busy`, `TIMEOUT: timed
 * out after 10 seconds connecting`.
 */
export function describeConnectError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, errno } = error as NodeJS.ErrnoException;
  if (typeof code !== 'string') return error.message;
  if (isTaskpoolError(error)) return `${code}: ${error.message}`;
  // A system error's message repeats the syscall and address (`connect ENOENT /x.sock`),
  // which the caller names already: the description of its number says it plainly.
  systemErrors ??= getSystemErrorMap();
  const description = typeof errno === 'number' ? systemErrors.get(errno)?.[1] : undefined;
  return `${code}: ${description ?? error.message}`;
}
