/**
 * One repetition of one workload on one system, in a fresh process. Started by the
 * orchestrator (main.ts) from the bundle .build/child.mjs with the job as JSON in argv[2];
 * sends one `ChildReply` over IPC and exits.
 */
import { type RunResult, runners } from './measure.js';
import { findSystem } from './systems/index.js';
import { prepareTaskpool } from './systems/taskpool.js';
import type { WorkloadName, WorkloadParams } from './workloads.js';

export interface ChildJob {
  system: string;
  workload: WorkloadName;
  params: WorkloadParams;
  rep: number;
  bcryptExpected: string[];
  /** A private directory for sockets, made and removed by the orchestrator. */
  socketDir: string;
}

export type ChildReply = { ok: true; result: RunResult } | { ok: false; error: string };

async function run(job: ChildJob): Promise<RunResult> {
  const system = findSystem(job.system);
  if (!system) throw new Error(`unknown system ${job.system}`);
  if (system.family === 'taskpool') await prepareTaskpool();
  return runners[job.workload](system, job.params, {
    socketDir: job.socketDir,
    rep: job.rep,
    bcryptExpected: job.bcryptExpected,
  });
}

function reply(message: ChildReply): void {
  if (!process.send) {
    console.log(JSON.stringify(message));
    process.exit(0);
  }
  process.send(message, () => process.exit(0));
}

const job = JSON.parse(process.argv[2] ?? '{}') as ChildJob;
run(job).then(
  (result) => reply({ ok: true, result }),
  (error: unknown) =>
    reply({
      ok: false,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    }),
);
