/**
 * A worker's questions to its supervisor for the stats: one at a time, however many stats
 * requests its client pipelines, so that a client cannot flood the supervisor every other
 * client shares.
 */
import type { ServerStatsSnapshot } from '@taskpool/protocol';
import { describe, expect, it } from 'vitest';
import type { WorkerMessage } from '../src/ipc.js';
import { SupervisorStats } from '../src/supervisor-stats.js';

const snapshot = { spares: 1 } as ServerStatsSnapshot;

describe('SupervisorStats', () => {
  it('asks once for requests that overlap, and answers them all', async () => {
    const sent: WorkerMessage[] = [];
    const stats = new SupervisorStats((message) => sent.push(message) > 0);
    const answers = Array.from({ length: 100 }, () => stats.request());
    expect(sent).toHaveLength(1);
    stats.answer((sent[0] as { id: number }).id, snapshot);
    await expect(Promise.all(answers)).resolves.toEqual(Array(100).fill(snapshot));
    // Once answered, the next request asks again.
    const next = stats.request();
    expect(sent).toHaveLength(2);
    stats.answer((sent[1] as { id: number }).id, snapshot);
    await expect(next).resolves.toBe(snapshot);
  });

  it('rejects every waiting request with CLOSED when the supervisor is gone', async () => {
    const stats = new SupervisorStats(() => true);
    const waiting = [stats.request(), stats.request()];
    stats.disconnected();
    for (const request of waiting) await expect(request).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
