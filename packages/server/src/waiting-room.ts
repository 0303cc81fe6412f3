/**
 * Accepted connections waiting for a worker, oldest first. Each waits up to
 * `connectionTimeout`, then is refused with `SERVER_BUSY`; all are refused at once with
 * `WORKER_START_FAILED` when workers fail to start. The room reads from its
 * sockets, so that a client that goes away leaves the room at once (a paused socket would
 * never say so); whatever such a client sent is kept and handed to the worker with the
 * socket. A client speaks first (its `open`, or its TLS ClientHello), so one that has sent
 * nothing within `silentTimeout` is not a client: it is dropped, and holds no place.
 *
 * @module
 */
import type { Socket } from 'node:net';
import type { TaskpoolError } from '@taskpool/protocol';
import { refuseStranger } from './refuse-stranger.js';

interface Waiting {
  socket: Socket;
  /** `performance.now()` when it entered the room. */
  acceptedAt: number;
  head: Buffer[];
  headBytes: number;
  timer: NodeJS.Timeout;
  /** Until the first bytes come (`silentTimeout`). */
  silence: NodeJS.Timeout | undefined;
}

/** Why a connection left the room without a worker. */
export type DropReason = 'busy' | 'silent' | 'start-failed' | 'left';

interface WaitingRoomOptions {
  /** How long a connection may wait. */
  timeout: number;
  /** The most bytes a client may send before it has a worker; past it, it is dropped. */
  maxHeadBytes: number;
  /** How long a connection may wait without sending anything. */
  silentTimeout: number;
  /**
   * Refusals are sent as error frames; false on a TLS listener, whose clients could not
   * read them (the supervisor speaks no TLS): they are closed without a word.
   */
  plaintext: boolean;
  /** The error a connection that waited too long is refused with. */
  refusal: () => TaskpoolError;
  /** A connection left the room without a worker (not called for `take` or `closeAll`). */
  onDropped: (socket: Socket, reason: DropReason) => void;
}

/** Stops a socket's handle reading (pause() alone lets it read ahead into its buffer). */
function stopReading(socket: Socket): void {
  socket.pause();
  const handle = (socket as unknown as { _handle?: { reading?: boolean; readStop?: () => number } })
    ._handle;
  if (handle?.readStop) {
    handle.reading = false;
    handle.readStop();
  }
}

export class WaitingRoom {
  readonly #options: WaitingRoomOptions;
  readonly #waiting: Waiting[] = [];

  constructor(options: WaitingRoomOptions) {
    this.#options = options;
  }

  /** Connections waiting now. */
  get size(): number {
    return this.#waiting.length;
  }

  add(socket: Socket): void {
    const waiting: Waiting = {
      socket,
      acceptedAt: performance.now(),
      head: [],
      headBytes: 0,
      timer: setTimeout(
        () => this.#refuse(waiting, this.#options.refusal(), 'busy'),
        this.#options.timeout,
      ),
      silence: setTimeout(() => this.#drop(waiting, 'silent'), this.#options.silentTimeout),
    };
    this.#waiting.push(waiting);
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(waiting.silence);
      waiting.silence = undefined;
      waiting.head.push(chunk);
      waiting.headBytes += chunk.length;
      if (waiting.headBytes > this.#options.maxHeadBytes) socket.destroy();
    });
    // The client left (or half-closed: it cannot be served either).
    socket.once('end', () => socket.destroy());
    socket.once('close', () => this.#drop(waiting, 'left'));
    socket.resume();
  }

  /** Refuses a connection that never entered the room (it is full, or its peer is). */
  refuse(socket: Socket, error: TaskpoolError): void {
    if (this.#options.plaintext) refuseStranger(socket, error);
    else socket.destroy();
  }

  /** The oldest waiting connection, with what it sent, no longer read from. */
  take(): { socket: Socket; head: Buffer; acceptedAt: number } | undefined {
    let waiting = this.#waiting.shift();
    // Destroyed (the client left, or sent too much) but its 'close' has not come yet.
    while (waiting?.socket.destroyed) {
      this.#stopTimers(waiting);
      this.#options.onDropped(waiting.socket, 'left');
      waiting = this.#waiting.shift();
    }
    if (!waiting) return undefined;
    this.#stopTimers(waiting);
    const { socket } = waiting;
    stopReading(socket);
    socket.removeAllListeners('data');
    socket.removeAllListeners('end');
    socket.removeAllListeners('close');
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read()) {
      waiting.head.push(chunk);
    }
    return { socket, head: Buffer.concat(waiting.head), acceptedAt: waiting.acceptedAt };
  }

  /**
   * Refuses every waiting connection with `error` (workers cannot start: waiting longer
   * would only end in a bare timeout).
   */
  refuseAll(error: TaskpoolError): void {
    for (const waiting of [...this.#waiting]) this.#refuse(waiting, error, 'start-failed');
  }

  /** Drops every waiting connection (the server is closing). */
  closeAll(): void {
    for (const waiting of this.#waiting.splice(0)) {
      this.#stopTimers(waiting);
      waiting.socket.destroy();
    }
  }

  #stopTimers(waiting: Waiting): void {
    clearTimeout(waiting.timer);
    clearTimeout(waiting.silence);
  }

  /** Takes `waiting` out of the room (once: a later close finds it gone). */
  #leave(waiting: Waiting, reason: DropReason): void {
    this.#stopTimers(waiting);
    const index = this.#waiting.indexOf(waiting);
    if (index < 0) return;
    this.#waiting.splice(index, 1);
    this.#options.onDropped(waiting.socket, reason);
  }

  #drop(waiting: Waiting, reason: DropReason): void {
    this.#leave(waiting, reason);
    waiting.socket.destroy();
  }

  #refuse(waiting: Waiting, error: TaskpoolError, reason: DropReason): void {
    this.#leave(waiting, reason);
    this.refuse(waiting.socket, error);
  }
}
