/** Command-line options of `npm run bench`. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export interface BenchArgs {
  workloads: string[];
  only: string[];
  json: string | undefined;
  markdown: string | undefined;
  cpuProf: string | undefined;
  quick: boolean;
  reps: number | undefined;
  help: boolean;
}

export const usage = `usage: npm run bench -- [workload ...] [options]

  workloads: echo-seq echo-pipelined checkout-churn checkout-servers echo-10k
             stream-items map-echo bcrypt cold-start idle-memory codec queue
             queue-cluster (default: all of these)
             call-memory (only when named: 1,000,000 client.call, minutes)
    checkout-servers  one client's checkouts over 1 server and over 3 (127.0.0.2-4)
    queue             the Redis queue: BullMQ and @taskpool/redis's three modes
    queue-cluster     @taskpool/redis (reliable) on a private 3-master Redis Cluster
                      next to the same mode on the single Redis, and the ratio
  --workloads a,b     the same, as an option
  --only a,b          systems by name or family (raw, raw-pipelined, piscina, tinypool,
                      workerpool, taskpool, taskpool-hwm256, taskpool-per-call,
                      taskpool-call, taskpool-map, taskpool-tcp, taskpool-tls,
                      taskpool-tcp-auth, taskpool-nometrics, taskpool-call-nometrics,
                      taskpool-1-server, taskpool-3-servers); the queue workloads
                      run all their rows
  --reps N            repetitions (default 3; 2 with --quick)
  --quick             fewer calls per run, for development
  --json FILE         write every figure as JSON
  --markdown FILE     write the tables as Markdown
  --cpu-prof DIR      node --cpu-prof in every bench child and the node processes it
                      starts (servers and workers inherit its execArgv)
`;

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workloads: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      markdown: { type: 'string' },
      'cpu-prof': { type: 'string' },
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const reps = values.reps === undefined ? undefined : Number(values.reps);
  if (reps !== undefined && !(Number.isInteger(reps) && reps > 0)) {
    throw new Error(`--reps takes a positive integer, not ${values.reps}`);
  }
  return {
    workloads: [...positionals, ...list(values.workloads)],
    only: list(values.only),
    json: values.json,
    markdown: values.markdown,
    cpuProf: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    quick: values.quick ?? false,
    reps,
    help: values.help ?? false,
  };
}
