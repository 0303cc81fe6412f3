// A frame that arrived a byte at a time held its worker forever.
import { expect, it } from 'vitest';
import { eventually, startServer } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

it('closes a connection whose frame does not arrive in full within frameTimeout', async () => {
  await using server = await startServer('echo-worker.ts', { frameTimeout: 500 });
  await using client = await RawClient.connect(server.endpoint);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(64);
  client.socket.write(Buffer.concat([header, Buffer.from('{')]));
  let sent = 0;
  const drip = setInterval(() => {
    if (client.isClosed || ++sent > 60) clearInterval(drip);
    else client.socket.write(' ');
  }, 100);
  try {
    await eventually(() => client.isClosed, 15_000, 'the connection closed');
  } finally {
    clearInterval(drip);
  }
  expect(sent).toBeLessThan(60);
  expect(await client.next().catch(() => undefined)).toMatchObject({
    type: 'error',
    id: 0,
    error: { code: 'PROTOCOL_ERROR' },
  });
});
