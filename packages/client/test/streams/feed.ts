/** The streaming interface the stream tests use, on both sides. */
import { defineInterface } from '@taskpool/protocol';
import { z } from 'zod';

export const feed = defineInterface({
  /** Yields 1..n, returns how many. */
  count: {
    args: z.tuple([z.number().int(), z.number().int().optional()]),
    yields: z.number(),
    result: z.object({ total: z.number() }),
  },
  /** Yields n strings of `size` characters; returns nothing. */
  payload: { args: z.tuple([z.number().int(), z.number().int()]), yields: z.string() },
  /** Yields 0..n-1, then throws. */
  failAfter: { args: z.tuple([z.number().int()]), yields: z.number() },
  /** Yields 0, lets the event loop turn, then throws: a failure that can cross a cancel. */
  failSoon: { args: z.tuple([]), yields: z.number() },
  /** Yields one item, then waits for its signal (and says it saw it in its finally). */
  waitForAbort: { args: z.tuple([]), yields: z.number() },
  /** Yields one item, then blocks the event loop on the next pull. */
  spin: { args: z.tuple([]), yields: z.number() },
  /** Yields one item, then waits for ever, deaf to its signal. */
  deaf: { args: z.tuple([]), yields: z.number() },
  /** Yields a string where a number is declared. */
  badItem: { args: z.tuple([]), yields: z.number() },
  /** Returns a string where an object is declared. */
  badResult: { args: z.tuple([]), yields: z.number(), result: z.object({ ok: z.boolean() }) },
  /** What this worker's streams did: items made, finally blocks run, aborts seen. */
  produced: {
    args: z.tuple([]),
    result: z.object({ items: z.number(), finallies: z.number(), aborts: z.number() }),
  },
  echo: { args: z.tuple([z.string()]), result: z.string() },
  /** Waits `ms`, then returns `value` (for client.map). */
  slowEcho: {
    args: z.tuple([z.object({ value: z.number(), ms: z.number() })]),
    result: z.number(),
  },
  /** Fails for one value (for client.map). */
  failOn: { args: z.tuple([z.number()]), result: z.number() },
});
