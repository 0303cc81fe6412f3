/**
 * The live progress line of `taskpool bench`, on standard error when it is a terminal:
 * rewritten in place (`\r`) ten times a second at most, then erased. Anywhere else (a pipe,
 * a file, a CI log, a test) there is none: the report at the end says it all, and a line
 * a second would only bury it.
 *
 * @module
 */
import type { Tally } from './tally.js';

/** How often the line is rewritten, in ms. */
const EVERY_MS = 100;

/** Stops the line and erases it. */
export type StopProgress = () => void;

export function showProgress(
  tally: Tally,
  startedAt: number,
  stream: NodeJS.WriteStream = process.stderr,
): StopProgress {
  if (!stream.isTTY) return () => {};
  const draw = () => {
    const seconds = (performance.now() - startedAt) / 1_000;
    const rate = seconds > 0 ? Math.round(tally.done / seconds) : 0;
    const errors = tally.failed === 1 ? '1 error' : `${tally.failed} errors`;
    // \x1b[K erases what a longer line before left.
    stream.write(
      `\r${tally.done} calls  ${rate} calls/s  ${errors}  ${seconds.toFixed(1)} s\x1b[K`,
    );
  };
  const timer = setInterval(draw, EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    stream.write('\r\x1b[K');
  };
}
