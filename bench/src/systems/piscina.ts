/** piscina 5: worker threads in this process (no process isolation), named exports. */
import { Piscina } from 'piscina';
import { workersDir } from '../paths.js';
import type { System } from './system.js';

export const piscinaSystem: System = {
  name: 'piscina',
  family: 'piscina',
  shape: 'worker threads; pool.run(task, { name })',
  isolation: 'thread',
  workloads: [
    'echo-seq',
    'echo-pipelined',
    'checkout-churn',
    'echo-10k',
    'map-echo',
    'bcrypt',
    'cold-start',
  ],
  async start({ workers }) {
    const pool = new Piscina({
      filename: `${workersDir}piscina-worker.cjs`,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: Number.POSITIVE_INFINITY,
    });
    return {
      echo: (value) => pool.run(value, { name: 'echo' }),
      hash: (password, salt) => pool.run({ password, salt }, { name: 'hash' }),
      workerPids: async () => [],
      close: () => pool.destroy(),
    };
  },
};
