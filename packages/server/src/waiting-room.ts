/**
 * Accepted connections waiting for a worker, oldest first. Each waits up to
 * `connectionTimeout`, then is refused with `SERVER_BUSY`; all are refused at once with
 * `WORKER_START_FAILED` when workers fail to start. The room reads from its
 * sockets, so that a client that goes away leaves the room at once (a paused socket would
 * never say so); whatever such a client sent is kept and handed to the worker with the
 * socket.
 *
 * @module
 */
import type { Socket } from 'node:net';
import type { TaskpoolError } from '@taskpool/protocol';
import { encodeFrame, toWire } from '@taskpool/protocol/internal';

interface Waiting {
  socket: Socket;
  head: Buffer[];
  headBytes: number;
  timer: NodeJS.Timeout;
}

interface WaitingRoomOptions {
  /** How long a connection may wait. */
  timeout: number;
  /** The most bytes a client may send before it has a worker; past it, it is dropped. */
  maxHeadBytes: number;
  /** The error a connection that waited too long is refused with. */
  refusal: () => TaskpoolError;
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
      head: [],
      headBytes: 0,
      timer: setTimeout(
        () => this.#refuse(waiting, this.#options.refusal()),
        this.#options.timeout,
      ),
    };
    this.#waiting.push(waiting);
    socket.on('data', (chunk: Buffer) => {
      waiting.head.push(chunk);
      waiting.headBytes += chunk.length;
      if (waiting.headBytes > this.#options.maxHeadBytes) socket.destroy();
    });
    // The client left (or half-closed: it cannot be served either).
    socket.once('end', () => socket.destroy());
    socket.once('close', () => this.#leave(waiting));
    socket.resume();
  }

  /** The oldest waiting connection, with what it sent, no longer read from. */
  take(): { socket: Socket; head: Buffer } | undefined {
    let waiting = this.#waiting.shift();
    // Destroyed (the client left, or sent too much) but its 'close' has not come yet.
    while (waiting?.socket.destroyed) {
      clearTimeout(waiting.timer);
      waiting = this.#waiting.shift();
    }
    if (!waiting) return undefined;
    clearTimeout(waiting.timer);
    const { socket } = waiting;
    stopReading(socket);
    socket.removeAllListeners('data');
    socket.removeAllListeners('end');
    socket.removeAllListeners('close');
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read()) {
      waiting.head.push(chunk);
    }
    return { socket, head: Buffer.concat(waiting.head) };
  }

  /**
   * Refuses every waiting connection with `error` (workers cannot start: waiting longer
   * would only end in a bare timeout).
   */
  refuseAll(error: TaskpoolError): void {
    for (const waiting of [...this.#waiting]) this.#refuse(waiting, error);
  }

  /** Drops every waiting connection (the server is closing). */
  closeAll(): void {
    for (const waiting of this.#waiting.splice(0)) {
      clearTimeout(waiting.timer);
      waiting.socket.destroy();
    }
  }

  #leave(waiting: Waiting): void {
    clearTimeout(waiting.timer);
    const index = this.#waiting.indexOf(waiting);
    if (index >= 0) this.#waiting.splice(index, 1);
  }

  #refuse(waiting: Waiting, error: TaskpoolError): void {
    this.#leave(waiting);
    waiting.socket.end(encodeFrame({ type: 'error', id: 0, error: toWire(error) }));
  }
}
