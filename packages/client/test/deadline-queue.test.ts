import { describe, expect, it } from 'vitest';
import { type Deadline, DeadlineQueue } from '../src/deadline-queue.js';

class Item implements Deadline {
  done = false;
  expired = false;
  constructor(
    readonly deadline: number,
    readonly onExpire: () => void = () => {},
  ) {}
  expire(): void {
    this.expired = true;
    this.onExpire();
  }
}

const inMs = (ms: number) => performance.now() + ms;

function expiry(item: Item): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (item.expired ? resolve() : setTimeout(poll, 1));
    poll();
  });
}

describe('DeadlineQueue', () => {
  it('expires pending items at their deadlines, in deadline order, and never settled ones', async () => {
    const queue = new DeadlineQueue();
    const order: string[] = [];
    const late = new Item(inMs(40), () => order.push('late'));
    const settled = new Item(inMs(5), () => order.push('settled'));
    const early = new Item(inMs(10), () => order.push('early'));
    const far = new Item(inMs(60_000), () => order.push('far'));
    queue.add(late);
    queue.add(settled);
    queue.add(early);
    queue.add(far);
    settled.done = true;
    queue.settled(settled);
    await expiry(late);
    expect(order).toEqual(['early', 'late']);
    expect(early.deadline).toBeLessThanOrEqual(late.deadline);
    expect(far.expired).toBe(false);
    expect(queue.size).toBe(1);
    queue.clear();
    expect(queue.size).toBe(0);
  });

  it('drops settled items from the front, and compacts settled ones stuck behind a pending one', () => {
    const queue = new DeadlineQueue();
    const stuck = new Item(inMs(60_000));
    queue.add(stuck);
    for (let i = 0; i < 10_000; i++) {
      const item = new Item(inMs(60_000 + i));
      queue.add(item);
      item.done = true;
      queue.settled(item);
    }
    expect(queue.size).toBeLessThan(2_100);
    stuck.done = true;
    queue.settled(stuck);
    expect(queue.size).toBe(0);
    queue.clear();
  });

  it('survives an expiry that clears the queue', async () => {
    const queue = new DeadlineQueue();
    const at = inMs(1);
    const second = new Item(at);
    const first = new Item(at, () => {
      second.done = true;
      queue.clear();
    });
    queue.add(first);
    queue.add(second);
    await expiry(first);
    expect(second.expired).toBe(false);
    expect(queue.size).toBe(0);
  });
});
