/**
 * A job's record as stored in Redis (recoverable and reliable modes), for inspection.
 *
 * @module
 */
import type { WireError } from '@taskpool/protocol/internal';
import type { QueueContext } from './context.js';
import { isWireError, type Outcome, parseOutcome } from './wire.js';

/** Where a job is in its life. */
export type JobState = 'queued' | 'active' | 'delayed' | 'completed' | 'failed' | 'cancelled';

/** What `queue.getJob()` returns. */
export interface JobRecord {
  id: string;
  state: JobState;
  priority: string;
  /** The data, parsed; undefined if unreadable. */
  data: unknown;
  /** Attempts started so far. */
  attempts: number;
  maxAttempts: number;
  /** Epoch ms (Redis clock). */
  queuedAt: number;
  /** Epoch ms of the latest start, if any. */
  startedAt: number | undefined;
  /** Epoch ms, once finished. */
  finishedAt: number | undefined;
  /** Epoch ms; null for none. */
  deadline: number | null;
  /** The final outcome, once finished. */
  outcome: Outcome | undefined;
  /** The error of the latest failed attempt. */
  lastError: WireError | undefined;
  /**
   * The latest progress its handler reported (`job.progress()`), parsed; undefined if none.
   * It is kept across attempts and after the job finished.
   */
  progress: unknown;
}

function json(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function time(text: string | undefined): number | undefined {
  return text === undefined ? undefined : Number(text);
}

/** Reads job `id`'s record; null when there is none. */
export async function readJobRecord(context: QueueContext, id: string): Promise<JobRecord | null> {
  const fields = await context.commands.hgetall(context.keys.job(id));
  if (fields.state === undefined) return null;
  const lastError = json(fields.error);
  const deadline = Number(fields.deadline ?? 0);
  return {
    id,
    state: fields.state as JobState,
    priority: fields.priority ?? '',
    data: json(fields.data),
    attempts: Number(fields.attempts ?? 0),
    maxAttempts: Number(fields.maxAttempts ?? 1),
    queuedAt: Number(fields.queued ?? 0),
    startedAt: time(fields.started),
    finishedAt: time(fields.finished),
    deadline: deadline > 0 ? deadline : null,
    outcome: fields.outcome === undefined ? undefined : parseOutcome(fields.outcome),
    lastError: isWireError(lastError) ? lastError : undefined,
    progress: json(fields.progress),
  };
}
