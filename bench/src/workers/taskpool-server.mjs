// The taskpool server of the bench: echo, bcrypt hash and a stream of items, as a user
// would write them.
// Started as `node taskpool-server.mjs` with TASKPOOL_BENCH_LISTEN (an endpoint) and
// TASKPOOL_BENCH_SPARES in the environment, for the checkout-servers rows
// TASKPOOL_BENCH_MAX_WORKERS (the server's maxWorkers), and for the transport rows
// TASKPOOL_BENCH_TLS_KEY and TASKPOOL_BENCH_TLS_CERT (files) or TASKPOOL_BENCH_AUTH_KEY
// (workers re-execute this file in worker mode, as node:cluster does, without arguments
// but with the same environment, and must build the same server). It writes
// `listening <endpoint>`, then `ready`.
// `.build/taskpool-server-lib.mjs` is @taskpool/server bundled from source by the bench
// (build.ts), so neither this process nor its workers run a TypeScript loader.
import bcrypt from 'bcryptjs';
import { createServer } from '../../.build/taskpool-server-lib.mjs';

// The items of stream-items: the ~100-byte object of smallPayload(id) in src/payloads.ts,
// which the bench checks every item against (as it does the raw server's, made by that
// function itself).
const sentence = 'the quick brown fox jumps over the lazy dog';
const item = (id) => ({ id, kind: 'echo', text: sentence, tags: ['alpha', 'beta'], n: id / 8 });

const env = process.env;
const server = createServer({
  name: 'bench',
  listen: env.TASKPOOL_BENCH_LISTEN,
  spares: Number(env.TASKPOOL_BENCH_SPARES ?? 2),
  ...(env.TASKPOOL_BENCH_MAX_WORKERS ? { maxWorkers: Number(env.TASKPOOL_BENCH_MAX_WORKERS) } : {}),
  ...(env.TASKPOOL_BENCH_TLS_KEY
    ? {
        tls: {
          key: { file: env.TASKPOOL_BENCH_TLS_KEY },
          cert: { file: env.TASKPOOL_BENCH_TLS_CERT },
        },
      }
    : {}),
  ...(env.TASKPOOL_BENCH_AUTH_KEY
    ? { auth: { keys: { bench: { env: 'TASKPOOL_BENCH_AUTH_KEY' } } } }
    : {}),
  interface: {
    echo: (value) => value,
    hash: (password, salt) => bcrypt.hashSync(password, salt),
    // An async generator: the worker's hello lists it as a stream.
    async *items(count) {
      for (let i = 0; i < count; i++) yield item(i);
      return { count };
    },
  },
});
// Only the supervisor gets past listen(): in a worker it serves and never resolves.
const endpoint = await server.listen();
const host = endpoint.kind === 'tcp' ? endpoint.host : undefined;
process.stdout.write(
  `listening ${host === undefined ? `unix:${endpoint.path}` : `${endpoint.tls ? 'tls' : 'tcp'}://${host}:${endpoint.port}`}\n`,
);
process.stdout.write('ready\n');
