// A worker whose client did not read its replies went on running calls, holding every
// reply in memory; and a frame timer that came due while a handler blocked the worker
// charged the peer for bytes the worker itself had not read.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { cpuTimeMs, eventually, startServer } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

it('starts no more calls while its client does not read the replies', async () => {
  await using server = await startServer('echo-worker.ts');
  await using client = await RawClient.connect(server.endpoint);
  const pid = client.hello.pid;
  client.socket.pause(); // read nothing for now
  const count = 3_000; // 300 MB of replies, if they were all made
  for (let i = 0; i < count; i++) client.sendCall('big', [100_000]);
  // The worker stops once its replies back up: its CPU time stops growing.
  let last = -1;
  await eventually(
    async () => {
      const now = cpuTimeMs(pid);
      const still = now === last;
      last = now;
      await new Promise((resolve) => setTimeout(resolve, 300));
      return still && cpuTimeMs(pid) === now;
    },
    30_000,
    'the worker idle',
  );
  expect(rssMb(pid)).toBeLessThan(200);
  client.socket.resume();
  for (let i = 0; i < count; i++) {
    const reply = await client.next(30_000);
    if (reply.type !== 'result') throw new Error(`reply ${i}: ${JSON.stringify(reply)}`);
  }
}, 120_000);

it('does not drop a frame whose rest came while a handler blocked the worker', async () => {
  await using server = await startServer('echo-worker.ts', { frameTimeout: 300 });
  await using client = await RawClient.connect(server.endpoint);
  const pid = client.hello.pid;
  const frame = (message: object) => {
    const body = Buffer.from(JSON.stringify(message));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    return Buffer.concat([header, body]);
  };
  const blocking = frame({ type: 'call', id: 1, method: 'block', args: [1_000] });
  const next = frame({ type: 'call', id: 2, method: 'double', args: [4] });
  const before = cpuTimeMs(pid);
  // One write: the worker reads the blocking call and the start of the next frame together.
  client.socket.write(Buffer.concat([blocking, next.subarray(0, 14)]));
  await eventually(() => cpuTimeMs(pid) - before >= 100, 10_000, 'the worker is blocked');
  client.socket.write(next.subarray(14));
  expect(await client.next()).toMatchObject({ type: 'result', id: 1, value: 1_000 });
  expect(await client.next()).toMatchObject({ type: 'result', id: 2, value: 8 });
});
