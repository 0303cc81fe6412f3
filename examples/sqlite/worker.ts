/**
 * The DBI synopsis on better-sqlite3: one function serves every call, receiving the
 * method name and its arguments, so the client calls `co.do(sql, ...params)` or
 * `co.selectrow(sql, ...params)` as if it held the database handle, or streams rows with
 * `co.stream('iterate', [sql])`. A checkout released in the middle of a transaction is
 * rolled back by `checkoutDone`.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineWorker } from '@taskpool/server';
import Database from 'better-sqlite3';

let db: Database.Database;

/** What the client may call, DBI style. */
const methods = {
  /** Runs a statement; returns the number of rows it changed. */
  do: (sql: string, ...params: unknown[]) => db.prepare(sql).run(...params).changes,
  /** The first row of a query, or null. */
  selectrow: (sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) ?? null,
  /** Every row of a query. */
  selectall: (sql: string, ...params: unknown[]) => db.prepare(sql).all(...params),
  /** True while a transaction is open on this worker's connection. */
  inTransaction: () => db.inTransaction,
  /**
   * The rows of a query, one at a time, as a stream: read with `co.stream('iterate', [sql])`.
   * The worker reads the next row only when the client has room for it, and a client that
   * stops early returns this generator, which closes the statement's cursor.
   */
  async *iterate(sql: string, ...params: unknown[]) {
    for (const row of db.prepare(sql).iterate(...params)) yield row;
  },
};

export type SqliteMethods = typeof methods;

export default defineWorker({
  setup: async () => {
    db = new Database(process.env.SQLITE_PATH ?? join(tmpdir(), 'taskpool-example.sqlite3'));
    db.pragma('busy_timeout = 5000');
    // Workers start side by side: the switch to WAL (made once, it persists in the file)
    // can meet another worker's and fail with SQLITE_BUSY without waiting, so retry it.
    for (let attempt = 1; ; attempt++) {
      try {
        db.pragma('journal_mode = WAL');
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY' || attempt === 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  },
  checkoutDone: () => {
    if (db.inTransaction) db.exec('ROLLBACK');
  },
  interface: (method: string | null, ...args: unknown[]) => {
    if (method === null || !Object.hasOwn(methods, method))
      throw new Error(`no such method: ${method}`);
    return (methods[method as keyof typeof methods] as (...a: unknown[]) => unknown)(...args);
  },
});
