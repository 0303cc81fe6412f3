// A spare warmed its connection path on a predictable socket in the shared temporary
// directory: a file planted there killed every new worker, and killed workers left theirs.
import { mkdtempSync, readdirSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startServer } from '../helpers/processes.js';
import { RawClient } from '../helpers/raw-client.js';

it('creates nothing in the temporary directory while workers start and serve', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'taskpool-tmp-'));
  const created: string[] = [];
  const watcher = watch(dir, (_event, name) => created.push(String(name)));
  try {
    const server = await startServer('echo-worker.ts', {
      spares: 3,
      env: { ...process.env, TMPDIR: dir },
    });
    for (let i = 0; i < 4; i++) {
      await using client = await RawClient.connect(server.endpoint);
      expect(await client.value('double', [i])).toBe(i * 2);
    }
    await server.close();
    expect(created).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  } finally {
    watcher.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
