import { DeferredLog, InvalidOptionError, LOG_LEVELS } from '@taskpool/protocol';
import { logRecordSchema } from '@taskpool/protocol/schemas';
import { describe, expect, it } from 'vitest';

describe('DeferredLog', () => {
  it('records lines with their level and relative time', () => {
    const log = new DeferredLog({ start: 1000 });
    log.info('hello from', 123);
    log.warn('careful');
    log.error('bad');
    log.debug('detail');
    const record = log.toJSON();
    expect(record.start).toBe(1000);
    expect(record.logs?.map(([, level, ...items]) => [level, ...items])).toEqual([
      [30, 'hello from', 123],
      [20, 'careful'],
      [10, 'bad'],
      [40, 'detail'],
    ]);
    expect(logRecordSchema.parse(record)).toEqual(record);
  });

  it('leaves out empty parts, as Log::Defer does', () => {
    const log = new DeferredLog({ start: 5 });
    expect(log.isEmpty).toBe(true);
    expect(Object.keys(log.finish()).sort()).toEqual(['end', 'start']);
  });

  it('drops lines above its verbosity and calls lazy items only when they pass', () => {
    const log = new DeferredLog({ verbosity: LOG_LEVELS.info });
    let calls = 0;
    log.debug(() => {
      calls++;
      return 'expensive';
    });
    log.info(() => {
      calls++;
      return 'cheap';
    }, 'tail');
    expect(calls).toBe(1);
    expect(log.logs.map(([, , ...items]) => items)).toEqual([['cheap', 'tail']]);
  });

  it('times with end(), using, and closes open timers at finish', () => {
    const log = new DeferredLog();
    const a = log.timer('a');
    a.end();
    a.end();
    {
      using _b = log.timer('b');
    }
    log.timer('open');
    const record = log.finish();
    expect(record.timers?.map((t) => t[0])).toEqual(['a', 'b', 'open']);
    for (const timer of record.timers ?? []) {
      expect(timer).toHaveLength(3);
      expect(timer[2]).toBeGreaterThanOrEqual(timer[1]);
    }
    expect(record.timers?.[2]?.[2]).toBe(record.end);
  });

  it('merges another record, shifted by the start difference and sorted', () => {
    const client = new DeferredLog({ start: 100 });
    client.logs.push([0.1, 30, 'client first'], [0.9, 30, 'client late']);
    client.timers.push(['call', 0.2, 0.8]);
    client.data.a = 1;
    client.merge({
      start: 100.5,
      logs: [[0.1, 30, 'worker']],
      timers: [['junk', 0.1, 0.2]],
      data: { a: 2, b: 3 },
    });
    expect(client.logs.map((l) => [l[0], l[2]])).toEqual([
      [0.1, 'client first'],
      [0.6, 'worker'],
      [0.9, 'client late'],
    ]);
    expect(client.timers).toEqual([
      ['call', 0.2, 0.8],
      ['junk', 0.6, 0.7],
    ]);
    expect({ ...client.data }).toEqual({ a: 2, b: 3 });
  });

  it('corrects a clock offset and clamps times at zero', () => {
    const client = new DeferredLog({ start: 100 });
    client.merge({ start: 110.2, logs: [[0, 30, 'x']] }, 10);
    expect(client.logs[0]?.[0]).toBeCloseTo(0.2, 6);
    client.merge({ start: 50, logs: [[0, 30, 'early']] });
    expect(client.logs[0]?.[0]).toBe(0);
  });

  it('does not let merged data reach any prototype', () => {
    const log = new DeferredLog();
    log.merge(JSON.parse('{"start":1,"data":{"__proto__":{"polluted":true},"k":"v"}}'));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(log.data.k).toBe('v');
    expect(JSON.parse(JSON.stringify(log)).data.k).toBe('v');
  });
});

describe('DeferredLog options', () => {
  it('are checked by the option checker, unknown keys included', () => {
    const refusal = (options: unknown): string => {
      try {
        new DeferredLog(options as never);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as InvalidOptionError).code).toBe('INVALID_OPTION');
        return (error as Error).message;
      }
      throw new Error('did not throw');
    };
    expect(refusal({ verbosity: 'info' })).toBe(
      'DeferredLog: option verbosity: expected a number (a log level), received "info" (a string)',
    );
    expect(refusal({ start: Number.NaN })).toBe(
      'DeferredLog: option start: expected a time in epoch seconds (a finite number >= 0), received NaN',
    );
    expect(refusal({ verbosty: 30 })).toBe(
      'DeferredLog: unknown option verbosty (did you mean verbosity?)',
    );
    expect(refusal(null)).toBe('DeferredLog: options: expected an object, received null');
    expect(new DeferredLog({ verbosity: 35, start: 12.5 })).toMatchObject({
      verbosity: 35,
      start: 12.5,
    });
  });
});
