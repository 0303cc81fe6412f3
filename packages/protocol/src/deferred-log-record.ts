/**
 * The JSON shape of a deferred log record, as Log::Defer writes it: `start` and `end` in
 * epoch seconds, `logs` of `[relativeSeconds, level, ...items]`, `timers` of
 * `[name, relativeStart, relativeEnd]`, and free-form `data`. Empty parts are left out.
 *
 * @module
 */
import { z } from 'zod';

/** One log line: seconds since `start`, a level (10 error … 40 debug), then the items. */
const logEntrySchema = z.tuple([z.number(), z.number()]).rest(z.unknown());

/** One timer: its name, and its start and end in seconds since `start`. */
const timerEntrySchema = z.union([
  z.tuple([z.string(), z.number(), z.number()]),
  z.tuple([z.string(), z.number()]),
]);

export const logRecordSchema = z.object({
  start: z.number(),
  end: z.number().optional(),
  logs: z.array(logEntrySchema).optional(),
  timers: z.array(timerEntrySchema).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});

export type LogEntry = z.infer<typeof logEntrySchema>;
export type TimerEntry = z.infer<typeof timerEntrySchema>;
/** A deferred log record in its JSON form. */
export type LogRecord = z.infer<typeof logRecordSchema>;
