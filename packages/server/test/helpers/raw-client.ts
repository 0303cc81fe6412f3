/**
 * A minimal protocol client for the server's tests: connect, read hello, send calls and
 * read replies by id. It checks nothing on its own; the tests do.
 */
import { connect, type Socket } from 'node:net';
import { PROTOCOL_VERSION, parseEndpoint } from '@taskpool/protocol';
import {
  type CallMessage,
  type ErrorMessage,
  encodeFrame,
  FrameDecoder,
  FrameWriter,
  type HelloMessage,
  type Message,
  parseMessage,
  type ResultMessage,
} from '@taskpool/protocol/internal';

type Reply = ResultMessage | ErrorMessage;

export class RawClient implements AsyncDisposable {
  readonly socket: Socket;
  readonly #writer: FrameWriter;
  readonly #decoder = new FrameDecoder();
  readonly #messages: Message[] = [];
  readonly #waiters: (() => void)[] = [];
  readonly closed: Promise<void>;
  #isClosed = false;
  #nextId = 1;
  /** The highest failure count the worker has reported. */
  failures = 0;
  hello!: HelloMessage;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.#writer = new FrameWriter(socket);
    socket.on('data', (chunk: Buffer) => {
      for (const value of this.#decoder.push(chunk)) {
        const message = parseMessage(value);
        // Like the real client: remember the worker's failure count (see the protocol's `failures`).
        if (message.type === 'error' && message.failures !== undefined) {
          this.failures = Math.max(this.failures, message.failures);
        }
        this.#messages.push(message);
      }
      this.#wake();
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#isClosed = true;
        this.#wake();
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /**
   * Connects; with `open` (the default) it opens the exchange as a client of this protocol
   * version does, so that the worker does not close it as silent.
   */
  static async connect(endpoint: string, { hello = true, open = true } = {}): Promise<RawClient> {
    const target = parseEndpoint(endpoint);
    const socket =
      target.kind === 'unix' ? connect(target.path) : connect(target.port, target.host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawClient(socket);
    if (open) socket.write(encodeFrame({ type: 'open', protocol: PROTOCOL_VERSION }));
    if (hello) {
      const first = await client.next();
      if (first.type !== 'hello')
        throw new Error(`expected hello, received ${JSON.stringify(first)}`);
      client.hello = first;
    }
    return client;
  }

  /** The next message, or throws after `timeout` ms or when the connection closes first. */
  async next(timeout = 10_000): Promise<Message> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const message = this.#messages.shift();
      if (message) return message;
      if (this.#isClosed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeout} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(message: Message): void {
    this.#writer.send(message);
  }

  /** Sends a call and returns its id. */
  sendCall(method: string | null, args: unknown[], extra: Partial<CallMessage> = {}): number {
    const id = this.#nextId++;
    this.send({ type: 'call', id, method, args, failures: this.failures, ...extra });
    return id;
  }

  /** Sends a call and waits for its reply. */
  async call(
    method: string | null,
    args: unknown[] = [],
    extra: Partial<CallMessage> = {},
  ): Promise<Reply> {
    const id = this.sendCall(method, args, extra);
    const reply = await this.next();
    if ((reply.type !== 'result' && reply.type !== 'error') || reply.id !== id) {
      throw new Error(`expected the reply to ${id}, received ${JSON.stringify(reply)}`);
    }
    return reply;
  }

  /** Sends a call and returns its value, or throws the error reply as an Error. */
  async value(method: string | null, args: unknown[] = []): Promise<unknown> {
    const reply = await this.call(method, args);
    if (reply.type === 'error') throw new Error(`${reply.error.code}: ${reply.error.message}`);
    return reply.value;
  }

  async close(): Promise<void> {
    this.socket.end();
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
    this.socket.destroy();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
