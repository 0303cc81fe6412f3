/**
 * Protocol-wide limits and the protocol version.
 *
 * @module
 */

/**
 * The wire protocol version a worker announces in `hello`. Version 2 added streams (the
 * `item` and `credit` messages, `call.credit`, `hello.streams`); version 3 the `stats`
 * request; version 4 the opening exchange (`open`, and `challenge` and `auth` when the
 * server has `auth`).
 */
export const PROTOCOL_VERSION = 4;

/**
 * The largest frame a worker accepts before the opening exchange is over (the client's
 * `open` and `auth` are far smaller): a stranger cannot make it buffer more.
 */
export const OPENING_MAX_FRAME_BYTES = 4 * 1024;

/** The default bound on one frame's JSON body: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Bytes in a frame's length prefix (a big-endian unsigned 32-bit integer). */
export const FRAME_HEADER_BYTES = 4;

/**
 * The longest delay, in ms, a Node.js timer can wait (2^31 - 1, about 24.8 days). Node
 * fires a longer `setTimeout` after 1 ms instead, so every timeout option is bounded by it
 * (use `null` for no limit).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The largest credit a stream may hold (and so the largest `highWaterMark`): 2^20 items.
 * A worker counts no credit beyond it, so a larger window would never be granted more.
 */
export const MAX_STREAM_CREDIT = 2 ** 20;
