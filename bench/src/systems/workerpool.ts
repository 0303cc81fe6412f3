/** workerpool 10 with workerType 'process': one child process per worker, exec(name, args). */
import workerpool from 'workerpool';
import { workersDir } from '../paths.js';
import { childPids } from '../proc.js';
import { callWorkloads } from '../workloads.js';
import type { System } from './system.js';

export const workerpoolSystem: System = {
  name: 'workerpool',
  family: 'workerpool',
  shape: "child processes (workerType: 'process'); pool.exec(name, args)",
  isolation: 'process',
  workloads: [...callWorkloads, 'map-echo'],
  async start({ workers }) {
    const pool = workerpool.pool(`${workersDir}workerpool-worker.mjs`, {
      workerType: 'process',
      minWorkers: workers,
      maxWorkers: workers,
    });
    return {
      echo: (value) => pool.exec('echo', [value]),
      hash: (password, salt) => pool.exec('hash', [password, salt]),
      workerPids: async () => childPids(process.pid),
      close: async () => {
        await pool.terminate();
      },
    };
  },
};
