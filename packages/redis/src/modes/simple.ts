/**
 * Simple mode: the whole job is the list entry and its outcome is only published. No
 * records, no scripts: every step is one command.
 *
 * @module
 */
import { BlockingConnection } from '../blocking.js';
import type { QueueContext } from '../context.js';
import { type Envelope, encodeCancel, parseEnvelope } from '../wire.js';
import type { Claimed, Mode, NewJob, SubmitSide, WorkSide } from './mode.js';

/** The list entry of a job; the same job always gives the same text (cancel finds it). */
function envelope(job: NewJob, replyTo: string): string {
  const head: Omit<Envelope, 'data'> = {
    id: job.id,
    replyTo,
    priority: job.priority,
    queued: job.queuedAt,
    deadline: job.deadline ?? 0,
  };
  return `${JSON.stringify(head).slice(0, -1)},"data":${job.json}}`;
}

function submitSide(context: QueueContext): SubmitSide {
  const { commands, keys, options } = context;
  return {
    enqueue: (job) => commands.lpush(keys.wait(job.priority), envelope(job, options.clientId)),
    watch: async () => ({ kind: 'unknown' }),
    async cancel(job, reason) {
      const entry = envelope(job, options.clientId);
      const removed = await commands.lrem(keys.wait(job.priority), 1, entry);
      if (removed === 0) await context.publish(keys.cancel, encodeCancel({ id: job.id, reason }));
    },
    forget: async () => {},
  };
}

function toClaimed(raw: string, report: (error: unknown) => void): Claimed | undefined {
  const job = parseEnvelope(raw);
  if (!job) {
    report(new Error(`dropped a list entry that is not a job: ${raw.slice(0, 200)}`));
    return undefined;
  }
  return {
    id: job.id,
    data: job.data,
    replyTo: job.replyTo,
    priority: job.priority,
    queuedAt: job.queued,
    startedAt: Date.now(),
    deadline: job.deadline === 0 ? null : job.deadline,
    attempt: 1,
    maxAttempts: 1,
    raw,
  };
}

function workSide(
  context: QueueContext,
  worker: { id: string; priorities: readonly string[] },
): WorkSide {
  const { commands, keys, options, report } = context;
  const lists = worker.priorities.map((p) => keys.wait(p));
  const blocking = new BlockingConnection(context, `worker:${worker.id}`);
  return {
    retries: false,
    start: async () => {},
    async take(max) {
      const popped = await blocking.popFrom(lists, max, options.blockTimeout);
      return popped.flatMap((raw) => toClaimed(raw, report) ?? []);
    },
    async finish(job, outcome) {
      await context.publish(keys.done(job.replyTo ?? ''), JSON.stringify(outcome));
      return true;
    },
    retry: async () => false,
    async release(jobs) {
      for (const job of [...jobs].reverse()) {
        if (job.raw !== undefined) await commands.rpush(keys.wait(job.priority), job.raw);
      }
    },
    unblock: () => blocking.unblock(),
    close: (ms) => blocking.close(ms),
  };
}

/** Simple mode. */
export const simpleMode: Mode = { submitSide, workSide };
