/**
 * The password-hashing demo: starts a server on a temporary Unix socket (no services
 * needed), hashes and verifies a password on a worker process, then hashes a batch in
 * parallel on the pool, and shuts everything down.
 */
import { createClient } from '@taskpool/client';
import { forkTaskServer } from '@taskpool/server';
import { hasher } from './interface.js';

const started = performance.now();
const elapsed = () => `${Math.round(performance.now() - started)} ms`;

await using server = await forkTaskServer({
  name: 'passwd-hasher',
  module: new URL('./worker.ts', import.meta.url),
  spares: 2,
});
console.log(`server pid ${server.pid} listening on ${server.endpoint} (${elapsed()})`);

await using client = createClient({ connect: server.endpoint, interface: hasher, name: 'demo' });
{
  await using co = await client.checkout({ timeout: 5_000 });
  const crypted = await co.hash('secret');
  console.log(`Hashed password is ${crypted}`);
  const ok = await co.verify(crypted, 'secret');
  console.log(`Verify result is ${ok}`);
  console.log(`(both on worker pid ${co.pid}, ${elapsed()})`);
}

const batch = Array.from({ length: 8 }, (_, i) => `password-${i}`);
const batchStarted = performance.now();
const hashes = await Promise.all(batch.map((plain) => client.call('hash', [plain])));
const checks = await Promise.all(
  hashes.map((crypted, i) => client.call('verify', [crypted, batch[i] as string])),
);
const stats = client.stats();
console.log(
  `hashed and verified ${batch.length} passwords on ${stats.idle + stats.busy} workers in ${Math.round(performance.now() - batchStarted)} ms: ${checks.every(Boolean) ? 'all verified' : 'MISMATCH'}`,
);
await client.close();
await server.close();
console.log(`closed the client and the server (${elapsed()})`);
