/**
 * The password-hashing demo: starts a server on a temporary Unix socket (no services
 * needed), hashes and verifies a password on a worker process, then hashes a batch in
 * parallel on the pool, and shuts everything down. Each line gives its own step's time
 * (not the time since the start, which made a quick close read as a slow one), and the
 * last line the total.
 */
import { createClient } from '@taskpool/client';
import { forkTaskServer } from '@taskpool/server';
import { hasher } from './interface.js';

const started = performance.now();
let stepStarted = started;
/** The time since the previous step ended, and starts the next step. */
const step = () => {
  const now = performance.now();
  const ms = Math.round(now - stepStarted);
  stepStarted = now;
  return `${ms} ms`;
};

await using server = await forkTaskServer({
  name: 'passwd-hasher',
  module: new URL('./worker.ts', import.meta.url),
  spares: 2,
});
console.log(`server pid ${server.pid} listening on ${server.endpoint} (started in ${step()})`);

await using client = createClient({ connect: server.endpoint, interface: hasher, name: 'demo' });
{
  await using co = await client.checkout({ timeout: 5_000 });
  const crypted = await co.hash('secret');
  console.log(`Hashed password is ${crypted}`);
  const ok = await co.verify(crypted, 'secret');
  console.log(`Verify result is ${ok}`);
  console.log(`(checkout, hash and verify on worker pid ${co.pid} in ${step()})`);
}

const batch = Array.from({ length: 8 }, (_, i) => `password-${i}`);
const hashes = await Promise.all(batch.map((plain) => client.call('hash', [plain])));
const checks = await Promise.all(
  hashes.map((crypted, i) => client.call('verify', [crypted, batch[i] as string])),
);
const stats = client.stats();
console.log(
  `hashed and verified ${batch.length} passwords on ${stats.idle + stats.busy} workers in ${step()}: ${checks.every(Boolean) ? 'all verified' : 'MISMATCH'}`,
);
await client.close();
await server.close();
console.log(`closed the client and the server in ${step()}`);
// Up to the end of the last step, not to now: printing that step's line took time too,
// which on a busy machine made the total more than the steps add up to.
console.log(`total ${Math.round(stepStarted - started)} ms`);
