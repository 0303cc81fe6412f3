/**
 * Recoverable mode: ids in the lists, data and outcome in a record, the outcome published
 * and kept, so a submitter that missed the message still collects it. Workers pop with
 * BLMPOP (all priorities in one blocking call) and then mark what they popped as started.
 *
 * @module
 */
import { BlockingConnection } from '../blocking.js';
import type { QueueContext } from '../context.js';
import { finishScript } from '../scripts/finish-3.js';
import { requeueScript } from '../scripts/requeue-0+.js';
import { runScript } from '../scripts/script.js';
import { startScript } from '../scripts/start-0+.js';
import { retryTransient } from '../time.js';
import type { Claimed, Mode, WorkSide } from './mode.js';
import { readStartedJob } from './record-fields.js';
import { recordProgress } from './record-progress.js';
import { recordSubmitSide } from './record-submit.js';

function workSide(
  context: QueueContext,
  worker: { id: string; priorities: readonly string[] },
): WorkSide {
  const { commands, keys, options } = context;
  const lists = worker.priorities.map((p) => keys.wait(p));
  const allLists = options.priorities.map((p) => keys.wait(p));
  const blocking = new BlockingConnection(context, `worker:${worker.id}`);
  const closing = new AbortController();
  return {
    retries: false,
    start: async () => {},
    async take(max) {
      const ids = await blocking.popFrom(lists, max, options.blockTimeout);
      if (ids.length === 0) return [];
      // The ids are out of their list and only this worker knows them: a refusal that
      // passes (a replica promoted in a failover, a server loading) must not lose them.
      const reply = (await retryTransient(
        () => runScript(commands, startScript, ids.map(keys.job), [worker.id, ...ids]),
        closing.signal,
      )) as (string | number)[];
      const now = Number(reply[0]);
      const jobs: Claimed[] = [];
      for (let i = 1; i + 4 < reply.length; i += 5) {
        jobs.push({ ...readStartedJob(reply, i, now), attempt: 1, maxAttempts: 1 });
      }
      return jobs;
    },
    async finish(job, outcome) {
      const reply = await runScript(
        commands,
        finishScript,
        [keys.job(job.id), keys.processing(worker.id), keys.failed],
        [
          job.id,
          outcome.ok ? 'completed' : 'failed',
          JSON.stringify(outcome),
          '0',
          options.resultTtl,
          keys.donePrefix,
          context.publishCommand,
        ],
      );
      return reply === 1;
    },
    progress: recordProgress(context, worker.id),
    retry: async () => false,
    async release(jobs) {
      if (jobs.length === 0) return;
      const ids = [...jobs].reverse().map((job) => job.id);
      await runScript(
        commands,
        requeueScript,
        [...ids.map((id) => keys.job(id)), ...allLists],
        ids,
      );
    },
    unblock: () => blocking.unblock(),
    close(ms) {
      closing.abort();
      return blocking.close(ms);
    },
  };
}

/** Recoverable mode. */
export const recoverableMode: Mode = {
  submitSide: (context) => recordSubmitSide(context, false),
  workSide,
};
