/** tinypool 2 with runtime 'child_process': one child process per worker, named exports. */
import Tinypool from 'tinypool';
import { workersDir } from '../paths.js';
import { childPids } from '../proc.js';
import { callWorkloads } from '../workloads.js';
import type { System } from './system.js';

export const tinypoolSystem: System = {
  name: 'tinypool',
  family: 'tinypool',
  shape: "child processes (runtime: 'child_process'); pool.run(task, { name })",
  isolation: 'process',
  workloads: [...callWorkloads, 'map-echo'],
  async start({ workers }) {
    const pool = new Tinypool({
      filename: `${workersDir}tinypool-worker.mjs`,
      runtime: 'child_process',
      minThreads: workers,
      maxThreads: workers,
    });
    return {
      echo: (value) => pool.run(value, { name: 'echo' }),
      hash: (password, salt) => pool.run({ password, salt }, { name: 'hash' }),
      workerPids: async () => childPids(process.pid),
      close: () => pool.destroy(),
    };
  },
};
