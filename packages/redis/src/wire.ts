/**
 * What travels through Redis as JSON: a job's outcome (published to its submitter and, in
 * the record modes, stored) and, in simple mode, the whole job in the list. Everything read
 * back is checked here before it is trusted.
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
  if (!isObject(value) || typeof value.id !== 'string') return undefined;
  if (value.ok === true) return { id: value.id, ok: true, value: value.value };
  if (value.ok === false && isWireError(value.error) && typeof value.attempts === 'number') {
    return { id: value.id, ok: false, error: value.error, attempts: value.attempts };
  }
  return undefined;
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
