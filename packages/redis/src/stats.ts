/**
 * A queue's counts, read in one script so they are consistent with each other, and this
 * process's metrics.
 *
 * @module
 */
import type { QueueContext } from './context.js';
import type { QueueMetricsSnapshot } from './queue-metrics.js';
import { runScript } from './scripts/script.js';
import { statsScript } from './scripts/stats-3+.js';

/** What `queue.stats()` returns. */
export interface QueueStats {
  /** Jobs waiting, per priority. */
  waiting: Record<string, number>;
  /** Jobs waiting, all priorities. */
  queued: number;
  /** Reliable jobs waiting out a retry backoff. */
  delayed: number;
  /** Failed jobs whose records are kept for inspection. */
  failed: number;
  /** Jobs held by reliable workers anywhere; null in the other modes, which do not track it. */
  running: number | null;
  /** Live reliable workers anywhere; null in the other modes. */
  workers: number | null;
  /** This process: jobs its submitter waits for, and jobs its workers hold. */
  local: { awaiting: number; running: number };
  /** This process's metrics, as `queue.metrics()` gives them; absent with `metrics: false`. */
  metrics?: QueueMetricsSnapshot;
}

/** Reads the Redis side of {@link QueueStats}. */
export async function readStats(
  context: QueueContext,
  local: QueueStats['local'],
): Promise<QueueStats> {
  const { commands, keys, options } = context;
  const reliable = options.mode === 'reliable';
  // The workers' processing lists are named in the script's KEYS, so read who they are
  // first (only reliable workers have them).
  const workers = reliable ? await commands.zrange(keys.workers, 0, -1) : [];
  const reply = (await runScript(
    commands,
    statsScript,
    [
      keys.workers,
      keys.delayed,
      keys.failed,
      ...options.priorities.map((p) => keys.wait(p)),
      ...workers.map((id) => keys.processing(id)),
    ],
    [options.priorities.length],
  )) as number[];
  const waiting: Record<string, number> = {};
  options.priorities.forEach((p, i) => {
    waiting[p] = Number(reply[4 + i] ?? 0);
  });
  return {
    waiting,
    queued: Object.values(waiting).reduce((a, b) => a + b, 0),
    delayed: Number(reply[1] ?? 0),
    failed: Number(reply[2] ?? 0),
    running: reliable ? Number(reply[3] ?? 0) : null,
    workers: reliable ? Number(reply[0] ?? 0) : null,
    local,
    // Read after the reply, so that it is as recent as the counts beside it.
    ...(context.metrics && { metrics: context.metrics.snapshot() }),
  };
}
