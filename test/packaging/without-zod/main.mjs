// Run by run.mjs in an app where the tarballs are installed without zod (an optional peer):
// every package's main entry loads, and a plain record of handlers serves untyped calls.
import assert from 'node:assert/strict';
import { createClient } from '@taskpool/client';
import '@taskpool/protocol';
import '@taskpool/redis';
import { forkTaskServer } from '@taskpool/server';

await assert.rejects(import('zod'), { code: 'ERR_MODULE_NOT_FOUND' }, 'zod is installed here');
const server = await forkTaskServer({ module: new URL('./worker.mjs', import.meta.url) });
const client = createClient({ connect: server.endpoint });
try {
  assert.equal(await client.call('add', [2, 3]), 5);
  console.log('2 + 3 = 5 on a worker, without zod');
} finally {
  await client.close();
  await server.close();
}
