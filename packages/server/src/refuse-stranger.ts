/**
 * Turning away a connection that was never served (the supervisor's refusals, a failed
 * opening exchange in a worker): one error frame without a stack, then the end.
 *
 * @module
 */
import type { Socket } from 'node:net';
import type { TaskpoolError } from '@taskpool/protocol';
import { encodeFrame, toWire } from '@taskpool/protocol/internal';

/** How long a refused client has to read its refusal and hang up before it is cut off. */
const REFUSAL_GRACE_MS = 1_000;

/**
 * Sends `error` and ends the connection. No stack: the peer is a stranger, and a stack
 * says where the server's code is. What the client sends meanwhile is read and dropped:
 * a socket closed with unread bytes sends a reset, which can overtake the error. A client
 * that does not hang up is cut off after a moment.
 */
export function refuseStranger(socket: Socket, error: TaskpoolError): void {
  const { code, name, message } = toWire(error);
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.resume();
  socket.end(encodeFrame({ type: 'error', id: 0, error: { code, name, message } }));
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}
