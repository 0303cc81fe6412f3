/**
 * `@taskpool/protocol/internal`: the plumbing the taskpool packages share: framing, the
 * parse gate, the wire form of errors, JSON checks and option checks. It is published for
 * them, follows their versions and is not part of the public API; users import
 * `@taskpool/protocol`.
 *
 * @module
 */
export {
  AUTH_METHOD,
  type AuthTranscript,
  authMac,
  macMatches,
  newNonce,
  sessionBinding,
} from './auth-mac.js';
export { type BackoffPolicy, backoffDelay } from './backoff.js';
export { recordDuration, summarize } from './duration-summary.js';
export { type FromWireOptions, fromWire, toWire, type WireError } from './errors.js';
export { FrameDecoder, type FrameDecoderOptions } from './frame-decoder.js';
export { encodeFrame, encodeFrames, FrameBatch } from './frame-encoder.js';
export { type FrameSink, FrameWriter } from './frame-writer.js';
export { argumentCount } from './interface.js';
export { findNonJson, isJsonValue, MAX_JSON_DEPTH } from './json-value.js';
export { FRAME_HEADER_BYTES, OPENING_MAX_FRAME_BYTES } from './limits.js';
export type {
  AuthMessage,
  CallMessage,
  CancelMessage,
  ChallengeMessage,
  CreditMessage,
  DoneMessage,
  ErrorMessage,
  HelloMessage,
  ItemMessage,
  Message,
  MessageType,
  OpenMessage,
  ResultMessage,
  RetireMessage,
  StatsMessage,
} from './messages.js';
export {
  abortSignal,
  anything,
  argumentError,
  boolean,
  type Check,
  check,
  checkOption,
  checkOptions,
  describeValue,
  endpoint,
  endpoints,
  func,
  integer,
  milliseconds,
  nested,
  nullable,
  number,
  type Option,
  type OptionSpec,
  object,
  oneOf,
  option,
  optional,
  optionError,
  type ResolvedOptions,
  required,
  resolveOptions,
  secret,
  secrets,
  string,
} from './option-checks.js';
export { parseMessage } from './parse-message.js';
export { readSecret } from './secret-source.js';
export {
  isServerDiscovery,
  isServiceRegistry,
  parseServerAnnouncement,
} from './service-registry.js';
