/**
 * The submitter's half shared by the two record modes (recoverable and reliable): the job
 * is a record, its id is queued, and a submitter can always ask the record how it went.
 *
 * @module
 */
import type { QueueContext } from '../context.js';
import { cancelScript } from '../scripts/cancel-2.js';
import { runScript } from '../scripts/script.js';
import { submitScript } from '../scripts/submit-3.js';
import { watchScript } from '../scripts/watch-1.js';
import { encodeCancel, parseOutcome, parseStoredProgress } from '../wire.js';
import type { SubmitSide, WatchResult } from './mode.js';

/** Builds the record modes' submit side; `wake` sets the reliable workers' marker. */
export function recordSubmitSide(context: QueueContext, wake: boolean): SubmitSide {
  const { commands, keys, options } = context;
  return {
    async enqueue(job, timeout) {
      const reply = await runScript(
        commands,
        submitScript,
        [keys.job(job.id), keys.wait(job.priority), keys.marker(job.priority)],
        [
          job.id,
          job.json,
          options.clientId,
          job.priority,
          timeout === null ? 0 : Math.max(1, Math.ceil(timeout)),
          job.maxAttempts,
          options.resultTtl,
          wake ? '1' : '0',
        ],
      );
      return Number(reply);
    },
    async watch(id): Promise<WatchResult> {
      const reply = (await runScript(commands, watchScript, [keys.job(id)], [options.clientId])) as
        | [string, string | null, string | null, string | null]
        | null;
      if (reply === null) return { kind: 'missing' };
      const [state, text, seq, progressJson] = reply;
      // Best effort: an unreadable stored progress is skipped, never an error.
      const progress = parseStoredProgress(id, seq, progressJson);
      const extra = progress ? { progress } : {};
      if (state !== 'completed' && state !== 'failed') return { kind: 'pending', ...extra };
      const outcome = typeof text === 'string' ? parseOutcome(text) : undefined;
      if (!outcome) throw new Error(`job ${id}: its stored outcome is unreadable`);
      return { kind: 'finished', outcome, ...extra };
    },
    async cancel(job, reason) {
      await runScript(
        commands,
        cancelScript,
        [keys.job(job.id), keys.delayed],
        [
          job.id,
          options.resultTtl,
          keys.cancel,
          encodeCancel({ id: job.id, reason }),
          context.publishCommand,
        ],
      );
    },
    async forget(id) {
      await commands.del(keys.job(id));
    },
  };
}
