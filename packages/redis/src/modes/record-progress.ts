/**
 * The worker's progress report shared by the two record modes: the update goes into the
 * job's record and onto its submitter's channel in one script, only while the job is this
 * worker's.
 *
 * @module
 */
import type { QueueContext } from '../context.js';
import { progressScript } from '../scripts/progress-1.js';
import { runScript } from '../scripts/script.js';
import { progressHead } from '../wire.js';
import type { Claimed } from './mode.js';

/** Builds a record mode's `WorkSide.progress` for worker `workerId`. */
export function recordProgress(
  context: QueueContext,
  workerId: string,
): (job: Claimed, json: string) => Promise<boolean> {
  const { commands, keys } = context;
  return async (job, json) => {
    const reply = await runScript(
      commands,
      progressScript,
      [keys.job(job.id)],
      [workerId, job.attempt, json, progressHead(job.id), keys.donePrefix, context.publishCommand],
    );
    return Number(reply) > 0;
  };
}
