/**
 * The DBI synopsis: calls queue up on a checkout and run in order on one worker, which
 * keeps its database connection between calls, so a transaction can span several calls.
 * Releasing a checkout in the middle of a transaction rolls it back.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type MethodsOf } from '@taskpool/client';
import { forkTaskServer } from '@taskpool/server';
import type { SqliteMethods } from './worker.js';

const path = join(tmpdir(), `taskpool-sqlite-demo-${process.pid}.sqlite3`);
await using server = await forkTaskServer({
  module: new URL('./worker.ts', import.meta.url),
  env: { ...process.env, SQLITE_PATH: path },
});
// One worker, so that the checkouts below share one database connection.
await using client = createClient<MethodsOf<SqliteMethods>>({
  connect: server.endpoint,
  maxWorkers: 1,
});

{
  await using dbh = await client.checkout();
  // Requests queue up on the checkout and execute in order (not awaited one by one).
  void dbh.do('CREATE TABLE user (username TEXT PRIMARY KEY, email TEXT)');
  void dbh.do('INSERT INTO user (username, email) VALUES (?, ?)', 'jimmy', null);
  const user = (await dbh.selectrow('SELECT * FROM user')) as {
    username: string;
    email: string | null;
  };
  console.log(`username: ${user.username}, email: ${user.email ?? ''}`);
}

let worker: number | undefined;
{
  // A transaction held across calls, abandoned by releasing the checkout mid-way.
  await using dbh = await client.checkout();
  worker = dbh.pid;
  await dbh.do('BEGIN');
  await dbh.do('INSERT INTO user (username, email) VALUES (?, ?)', 'alice', 'alice@example.com');
  console.log(
    `inside the transaction: ${JSON.stringify(await dbh.selectall('SELECT username FROM user'))}`,
  );
}
{
  await using dbh = await client.checkout();
  const rows = await dbh.selectall('SELECT username FROM user');
  const same = dbh.pid === worker ? 'the same worker' : 'another worker';
  console.log(
    `after releasing it mid-transaction (${same}): ${JSON.stringify(rows)}, in a transaction: ${await dbh.inTransaction()}`,
  );
}

{
  // Rows streamed out of a cursor, as the client reads them. Leaving the loop early stops
  // the worker's generator, which closes the cursor: the table can be dropped at once
  // (with the cursor still open, better-sqlite3 would refuse: "This database connection is
  // busy executing a query").
  await using dbh = await client.checkout();
  await dbh.do(
    'CREATE TABLE numbers AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000) SELECT x FROM n',
  );
  let streamed = 0;
  for await (const row of dbh.stream('iterate', ['SELECT x FROM numbers ORDER BY x'])) {
    streamed++;
    if ((row as { x: number }).x === 5) break;
  }
  await dbh.do('DROP TABLE numbers');
  console.log(`streamed ${streamed} of 100000 rows, then dropped the table`);
}

await client.close();
await server.close();
rmSync(path, { force: true });
rmSync(`${path}-wal`, { force: true });
rmSync(`${path}-shm`, { force: true });
