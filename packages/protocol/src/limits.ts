/**
 * Protocol-wide limits and the protocol version.
 *
 * @module
 */

/** The wire protocol version a peer announces in `hello`. */
export const PROTOCOL_VERSION = 1;

/** The default bound on one frame's JSON body: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Bytes in a frame's length prefix (a big-endian unsigned 32-bit integer). */
export const FRAME_HEADER_BYTES = 4;
