/**
 * DeferredLog: a request-scoped log kept in memory and written out once, at the end, as
 * one record (the Log::Defer model). Workers fill one per call and send it back with the
 * reply; the client merges it, clock-offset corrected, into the checkout's log.
 *
 * @module
 */
import type { LogEntry, LogRecord, TimerEntry } from './deferred-log-record.js';
import { check, checkOptions, optional } from './option-checks.js';

/** Log levels, as Log::Defer numbers them. */
export const LOG_LEVELS = { error: 10, warn: 20, info: 30, debug: 40 } as const;

/** Options of a {@link DeferredLog}. */
export interface DeferredLogOptions {
  /**
   * Lines above this level are dropped. A function given as the first item of a line is
   * called (lazily) only when its line passes.
   * @default 40 (debug: keep everything)
   * @example new DeferredLog({ verbosity: LOG_LEVELS.info })
   */
  verbosity?: number;
  /**
   * The start time in epoch seconds.
   * @default now
   * @example new DeferredLog({ start: Date.now() / 1000 })
   */
  start?: number;
}

/** The options of a DeferredLog, as the option checker reads them. */
const DEFERRED_LOG_OPTIONS = {
  // Any level number: add() takes levels of the caller's own between the named ones.
  verbosity: optional(
    check<number>(
      'a number (a log level)',
      (value) => typeof value === 'number' && !Number.isNaN(value),
    ),
  ),
  start: optional(
    check<number>(
      'a time in epoch seconds (a finite number >= 0)',
      (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0,
    ),
  ),
};

/** A running timer; ending it twice is harmless. */
export interface LogTimer extends Disposable {
  end(): void;
}

/** Seconds since the epoch, with sub-millisecond precision. */
export function epochSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

function round6(seconds: number): number {
  return Math.max(0, Math.round(seconds * 1e6) / 1e6);
}

export class DeferredLog {
  readonly start: number;
  readonly verbosity: number;
  end: number | undefined;
  readonly logs: LogEntry[] = [];
  readonly timers: TimerEntry[] = [];
  readonly data: Record<string, unknown> = Object.create(null);

  constructor(options: DeferredLogOptions = {}) {
    // A bad verbosity or start would not fail here but make a wrong record: refused now.
    checkOptions('DeferredLog', DEFERRED_LOG_OPTIONS, options);
    this.start = options.start ?? epochSeconds();
    this.verbosity = options.verbosity ?? LOG_LEVELS.debug;
  }

  /** Seconds since this log started. */
  elapsed(): number {
    return epochSeconds() - this.start;
  }

  /** Adds a line at any numeric level. */
  add(level: number, ...items: unknown[]): void {
    if (level > this.verbosity) return;
    const first = items[0];
    const resolved =
      typeof first === 'function' ? [(first as () => unknown)(), ...items.slice(1)] : items;
    this.logs.push([round6(this.elapsed()), level, ...resolved]);
  }

  error(...items: unknown[]): void {
    this.add(LOG_LEVELS.error, ...items);
  }

  warn(...items: unknown[]): void {
    this.add(LOG_LEVELS.warn, ...items);
  }

  info(...items: unknown[]): void {
    this.add(LOG_LEVELS.info, ...items);
  }

  debug(...items: unknown[]): void {
    this.add(LOG_LEVELS.debug, ...items);
  }

  /** Starts a timer; end it with `end()` or `using`. Duplicate names are allowed. */
  timer(name: string): LogTimer {
    const entry: TimerEntry = [name, round6(this.elapsed())];
    this.timers.push(entry);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      (entry as unknown[])[2] = round6(this.elapsed());
    };
    return { end, [Symbol.dispose]: end };
  }

  /**
   * Merges another record into this one: its lines and timers are shifted by the
   * difference of the two start times, lines are sorted by time, timers appended and
   * `data` merged (the other's keys win). `clockOffset` (seconds, the other clock minus
   * ours) corrects for a peer whose wall clock differs.
   */
  merge(other: LogRecord, clockOffset = 0): void {
    const shift = other.start - clockOffset - this.start;
    for (const [time, level, ...items] of other.logs ?? []) {
      this.logs.push([round6(time + shift), level, ...items]);
    }
    this.logs.sort((a, b) => a[0] - b[0]);
    for (const timer of other.timers ?? []) {
      const [name, begin, end] = timer;
      this.timers.push(
        end === undefined
          ? [name, round6(begin + shift)]
          : [name, round6(begin + shift), round6(end + shift)],
      );
    }
    for (const key of Object.keys(other.data ?? {})) {
      this.data[key] = (other.data as Record<string, unknown>)[key];
    }
  }

  /** Sets `end` and closes open timers at it; returns the record. Idempotent. */
  finish(): LogRecord {
    if (this.end === undefined) {
      this.end = round6(this.elapsed());
      for (const timer of this.timers) {
        if (timer.length === 2) (timer as unknown[])[2] = this.end;
      }
    }
    return this.toJSON();
  }

  /** True when nothing was logged, timed or stored. */
  get isEmpty(): boolean {
    return (
      this.logs.length === 0 && this.timers.length === 0 && Object.keys(this.data).length === 0
    );
  }

  /** The record in Log::Defer's JSON shape; empty parts are left out. */
  toJSON(): LogRecord {
    const record: LogRecord = { start: Math.round(this.start * 1e6) / 1e6 };
    if (this.end !== undefined) record.end = this.end;
    if (this.logs.length > 0) record.logs = this.logs;
    if (this.timers.length > 0) record.timers = this.timers;
    if (Object.keys(this.data).length > 0) record.data = { ...this.data };
    return record;
  }
}
