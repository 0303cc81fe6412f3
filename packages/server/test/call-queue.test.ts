/** The worker's call queue on its own: order, cancel, `done`, and the failure gate. */
import type { CallMessage } from '@taskpool/protocol/internal';
import { describe, expect, it } from 'vitest';
import { CallQueue } from '../src/call-queue.js';

const call = (id: number, failures?: number): CallMessage => ({
  type: 'call',
  id,
  method: 'm',
  args: [],
  ...(failures === undefined ? {} : { failures }),
});

describe('CallQueue', () => {
  it('hands out calls and done in arrival order, passing over cancelled calls', () => {
    const queue = new CallQueue();
    queue.push(call(1));
    queue.push(call(2));
    queue.push({ type: 'done' });
    queue.push(call(3));
    expect(queue.size).toBe(4);
    expect(queue.cancel(2)).toBe(true);
    expect(queue.cancel(2)).toBe(false);
    expect(queue.cancel(99)).toBe(false);
    expect(queue.size).toBe(3);
    expect(queue.next()).toMatchObject({ id: 1 });
    expect(queue.next()).toEqual({ type: 'done' });
    expect(queue.next()).toMatchObject({ id: 3 });
    expect(queue.next()).toBeUndefined();
    expect(queue.size).toBe(0);
  });

  it('cannot cancel a call it has handed out', () => {
    const queue = new CallQueue();
    queue.push(call(1));
    queue.next();
    expect(queue.cancel(1)).toBe(false);
  });

  it('keeps its order across compaction of a long queue', () => {
    const queue = new CallQueue();
    for (let id = 1; id <= 10_000; id++) queue.push(call(id));
    for (let id = 1; id <= 10_000; id += 2) queue.cancel(id);
    const out: number[] = [];
    for (let item = queue.next(); item; item = queue.next()) {
      if (item.type === 'call') out.push(item.id);
      if (out.length === 2_500) for (let id = 10_001; id <= 10_010; id++) queue.push(call(id));
    }
    expect(out).toHaveLength(5_010);
    expect(out.slice(0, 3)).toEqual([2, 4, 6]);
    expect(out.at(-1)).toBe(10_010);
    expect(out.every((id, i) => i === 0 || id > (out[i - 1] as number))).toBe(true);
  });

  it('says a call sent before its client knew of a failure is behind it', () => {
    const queue = new CallQueue();
    expect(queue.isBehindFailure(call(1))).toBe(false);
    expect(queue.recordFailure()).toBe(1);
    expect(queue.isBehindFailure(call(2))).toBe(true);
    expect(queue.isBehindFailure(call(3, 0))).toBe(true);
    expect(queue.isBehindFailure(call(4, 1))).toBe(false);
  });
});
