// The taskpool server of the bench: echo and bcrypt hash, as a user would write it.
// Started as `node taskpool-server.mjs` with TASKPOOL_BENCH_SOCKET and TASKPOOL_BENCH_SPARES
// in the environment (workers re-execute this file in worker mode, as node:cluster does,
// without arguments but with the same environment, and must build the same server).
// `.build/taskpool-server-lib.mjs` is @taskpool/server bundled from source by the bench
// (build.ts), so neither this process nor its workers run a TypeScript loader.
import bcrypt from 'bcryptjs';
import { createServer } from '../../.build/taskpool-server-lib.mjs';

const server = createServer({
  name: 'bench',
  listen: `unix:${process.env.TASKPOOL_BENCH_SOCKET}`,
  spares: Number(process.env.TASKPOOL_BENCH_SPARES ?? 2),
  interface: {
    echo: (value) => value,
    hash: (password, salt) => bcrypt.hashSync(password, salt),
  },
});
// Only the supervisor gets past listen(): in a worker it serves and never resolves.
await server.listen();
process.stdout.write('ready\n');
