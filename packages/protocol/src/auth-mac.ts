/**
 * The shared-secret challenge of the opening exchange: nonces, and the HMAC-SHA256 each
 * side sends to prove it holds the key. The MAC covers both nonces, the key id and, under
 * TLS, the session's exporter value (RFC 5705), so an answer is good for one connection
 * only: replayed on another, its server nonce (and TLS session) differ. The client's and
 * the server's MACs carry different labels, so one cannot be sent back as the other.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** The one authentication method: HMAC-SHA256 over a shared secret. */
export const AUTH_METHOD = 'hmac-sha256';

/** The label of the TLS exporter value that binds a login to its TLS session. */
const TLS_EXPORTER_LABEL = 'EXPORTER-taskpool-auth';

/** Bytes of the TLS exporter value. */
const TLS_EXPORTER_BYTES = 32;

/** The value that binds a login to its TLS session: the same at both ends of one session. */
export function sessionBinding(socket: TLSSocket): Buffer {
  return socket.exportKeyingMaterial(TLS_EXPORTER_BYTES, TLS_EXPORTER_LABEL, Buffer.alloc(0));
}

/** What a MAC covers besides the key. */
export interface AuthTranscript {
  keyId: string;
  /** The worker's nonce (base64), from `challenge`. */
  serverNonce: string;
  /** The client's nonce (base64), from `auth`. */
  clientNonce: string;
  /** The TLS exporter value, or an empty buffer without TLS. */
  binding: Uint8Array;
}

/** 32 random bytes, base64. */
export function newNonce(): string {
  return randomBytes(32).toString('base64');
}

/** The MAC `role` sends (base64): `client` in `auth`, `server` in `hello.auth`. */
export function authMac(
  key: Uint8Array,
  role: 'client' | 'server',
  transcript: AuthTranscript,
): string {
  const hmac = createHmac('sha256', key);
  // Each field with its length first: no two transcripts write the same bytes.
  for (const part of [
    `taskpool-auth-v1 ${role}`,
    transcript.keyId,
    transcript.serverNonce,
    transcript.clientNonce,
  ]) {
    const bytes = Buffer.from(part, 'utf8');
    hmac.update(lengthOf(bytes.length)).update(bytes);
  }
  hmac.update(lengthOf(transcript.binding.length)).update(transcript.binding);
  return hmac.digest('base64');
}

function lengthOf(n: number): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeUInt32BE(n);
  return prefix;
}

/** True when `received` is `expected`, compared in constant time. */
export function macMatches(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'base64');
  const b = Buffer.from(received, 'base64');
  // A MAC of the wrong length is wrong; comparing lengths leaks only the length.
  return a.length === b.length && timingSafeEqual(a, b);
}
