/**
 * What travels through Redis as JSON: a job's outcome (published to its submitter and, in
 * the record modes, stored), its progress updates (published on the same channel as its
 * outcome) and, in simple mode, the whole job in the list. Everything read back is checked
 * here before it is trusted.
 *
 * @module
 */
import type { WireError } from '@taskpool/protocol/internal';
import type { CancelReason } from './modes/mode.js';

/** A job's final outcome. */
export type Outcome =
  | { id: string; ok: true; value?: unknown }
  | { id: string; ok: false; error: WireError; attempts: number };

/** A simple-mode job as it sits in the list. */
export interface Envelope {
  id: string;
  data: unknown;
  replyTo: string;
  priority: string;
  /** Submitter's clock, epoch ms. */
  queued: number;
  /** Submitter's clock, epoch ms; 0 for none. */
  deadline: number;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** True when `value` has the shape of a {@link WireError}. */
export function isWireError(value: unknown): value is WireError {
  return (
    isObject(value) &&
    typeof value.code === 'string' &&
    typeof value.name === 'string' &&
    typeof value.message === 'string'
  );
}

/** Reads an outcome; undefined when `text` is not one. */
export function parseOutcome(text: string): Outcome | undefined {
  const value = parse(text);
  return isObject(value) ? readOutcome(value) : undefined;
}

function readOutcome(value: Record<string, unknown>): Outcome | undefined {
  if (typeof value.id !== 'string') return undefined;
  if (value.ok === true) return { id: value.id, ok: true, value: value.value };
  if (value.ok === false && isWireError(value.error) && typeof value.attempts === 'number') {
    return { id: value.id, ok: false, error: value.error, attempts: value.attempts };
  }
  return undefined;
}

/**
 * A progress update of a running job (record modes), as published to its submitter. `seq`
 * is the job record's update counter, 1 for the first: it orders updates, and lets a
 * submitter skip one it already has when it re-reads the record after a reconnection.
 */
export interface Progress {
  id: string;
  seq: number;
  value: unknown;
}

/**
 * What a submitter receives on its channel: an outcome, or a progress update. Progress
 * messages carry `"kind":"progress"`; outcomes carry no `kind` (they predate progress, and
 * the reaper writes them in Lua).
 */
export type Message =
  | { kind: 'outcome'; outcome: Outcome }
  | { kind: 'progress'; progress: Progress };

/**
 * The start of a progress message, up to where the progress script appends the counter and
 * the value's JSON (so the value is published exactly as the worker encoded it).
 */
export function progressHead(id: string): string {
  return `{"kind":"progress","id":${JSON.stringify(id)},"seq":`;
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** Reads a message from a submitter's channel; undefined when `text` is neither kind. */
export function parseMessage(text: string): Message | undefined {
  const value = parse(text);
  if (!isObject(value) || typeof value.id !== 'string') return undefined;
  if (value.kind === 'progress') {
    if (!isSeq(value.seq) || !('value' in value)) return undefined;
    return { kind: 'progress', progress: { id: value.id, seq: value.seq, value: value.value } };
  }
  // Any other kind is a message this version does not know: not an outcome either.
  if (value.kind !== undefined) return undefined;
  const outcome = readOutcome(value);
  return outcome && { kind: 'outcome', outcome };
}

/** Reads the latest progress stored in a record: its counter and value JSON, as HMGET gives them. */
export function parseStoredProgress(
  id: string,
  seq: string | null | undefined,
  json: string | null | undefined,
): Progress | undefined {
  const n = Number(seq);
  if (!isSeq(n) || typeof json !== 'string') return undefined;
  const value = parse(json);
  // JSON text never parses to undefined: undefined here means it was unreadable.
  return value === undefined ? undefined : { id, seq: n, value };
}

/** Reads a simple-mode job; undefined when `text` is not one. */
export function parseEnvelope(text: string): Envelope | undefined {
  const value = parse(text);
  if (
    !isObject(value) ||
    typeof value.id !== 'string' ||
    typeof value.replyTo !== 'string' ||
    typeof value.priority !== 'string' ||
    typeof value.queued !== 'number' ||
    typeof value.deadline !== 'number'
  ) {
    return undefined;
  }
  return {
    id: value.id,
    data: value.data,
    replyTo: value.replyTo,
    priority: value.priority,
    queued: value.queued,
    deadline: value.deadline,
  };
}

/** A cancellation, as published to workers. */
export interface Cancel {
  id: string;
  reason: CancelReason;
}

/** Writes a cancellation. */
export function encodeCancel(cancel: Cancel): string {
  return JSON.stringify(cancel);
}

/** Reads a cancellation; undefined when `text` is not one. */
export function parseCancel(text: string): Cancel | undefined {
  const value = parse(text);
  if (!isObject(value) || typeof value.id !== 'string') return undefined;
  return { id: value.id, reason: value.reason === 'timeout' ? 'timeout' : 'abort' };
}
