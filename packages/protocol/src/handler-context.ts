/**
 * What a handler in a worker receives besides its arguments.
 *
 * @module
 */
import type { DeferredLog } from './deferred-log.js';

/**
 * Who is calling: what the opening exchange established about the client of a connection.
 * The same for every call on it.
 */
export interface Peer {
  /** How the client came: a Unix socket, plaintext TCP, or TLS. */
  readonly transport: 'unix' | 'tcp' | 'tls';
  /** The client's IP address (TCP and TLS), or null on a Unix socket. */
  readonly address: string | null;
  /** The key id the client proved it holds (`auth`), or null. */
  readonly keyId: string | null;
  /** The subject of the client's verified certificate (mutual TLS), as `CN=…,O=…`, or null. */
  readonly subject: string | null;
  /** The subject alternative names of the client's certificate (`DNS:…`, `IP Address:…`). */
  readonly san: readonly string[];
  /** The SHA-256 fingerprint of the client's certificate (`AB:CD:…`), or null. */
  readonly fingerprint: string | null;
  /** True when the client authenticated: with a key (`keyId`) or a verified certificate. */
  readonly authenticated: boolean;
}

/** The context of one call, passed to every handler as its last argument. */
export interface HandlerContext<TCall = (method: string, ...args: unknown[]) => Promise<unknown>> {
  /** Aborts when the client cancels the call, its deadline passes, or the client goes away. */
  readonly signal: AbortSignal;
  /** This call's log; it is sent back with the reply and merged into the client's log. */
  readonly log: DeferredLog;
  /** Calls another handler of the same interface in this process (Clutch's cascade). */
  readonly call: TCall;
  /** The worker's number within its server, from 1. */
  readonly workerId: number;
  /** The method called, or null for a call of the one-function interface. */
  readonly method: string | null;
  /** Values of the caller's error scope (request id, trace context, …). */
  readonly scope: Readonly<Record<string, unknown>>;
  /** Who is calling: transport, address, key id, certificate (see {@link Peer}). */
  readonly peer: Peer;
}
