import { ProtocolError } from '@taskpool/protocol';
import { FrameDecoder, FrameWriter, type Message } from '@taskpool/protocol/internal';
import { describe, expect, it } from 'vitest';

/** Lets the writer's flush run (it comes after every promise job of this turn). */
const turn = () => new Promise((resolve) => setImmediate(resolve));

function sink() {
  const writes: Buffer[] = [];
  return { writes, destroyed: false, write: (chunk: Buffer) => writes.push(chunk) > 0 };
}

describe('FrameWriter', () => {
  it('sends everything of one tick in one write', async () => {
    const target = sink();
    const writer = new FrameWriter(target);
    const messages: Message[] = Array.from({ length: 15 }, (_, id) => ({
      type: 'call',
      id,
      method: 'echo',
      args: [id],
    }));
    for (const message of messages.slice(0, 5)) writer.send(message);
    // Messages sent by promise jobs of the same turn go in the same write.
    await Promise.resolve();
    for (const message of messages.slice(5, 10)) writer.send(message);
    await Promise.resolve().then(() => {});
    for (const message of messages.slice(10)) writer.send(message);
    expect(target.writes).toHaveLength(0);
    await turn();
    expect(target.writes).toHaveLength(1);
    expect(new FrameDecoder().push(target.writes[0] as Buffer)).toEqual(messages);
  });

  it('writes a large batch at once, so the peer can start on it', async () => {
    const target = sink();
    const writer = new FrameWriter(target);
    const messages: Message[] = Array.from({ length: 40 }, (_, id) => ({ type: 'cancel', id }));
    for (const message of messages) writer.send(message);
    // 16 frames make a batch large enough to write without waiting for the tick.
    expect(target.writes).toHaveLength(2);
    await turn();
    expect(target.writes).toHaveLength(3);
    const decoder = new FrameDecoder();
    expect(target.writes.flatMap((chunk) => decoder.push(chunk))).toEqual(messages);
    // And 16 KiB of JSON does too.
    writer.send({ type: 'result', id: 1, value: 'x'.repeat(20_000) });
    expect(target.writes).toHaveLength(4);
  });

  it('lets a run of bulk frames (the items of a stream) grow to 64 before it writes them', async () => {
    const target = sink();
    const writer = new FrameWriter(target);
    const items: Message[] = Array.from({ length: 150 }, (_, id) => ({
      type: 'item',
      id: 1,
      value: id,
    }));
    for (const item of items) writer.sendBulk(item);
    expect(target.writes).toHaveLength(2); // 64 + 64; 22 wait for the end of the tick
    await turn();
    expect(target.writes).toHaveLength(3);
    const decoder = new FrameDecoder();
    expect(target.writes.flatMap((chunk) => decoder.push(chunk))).toEqual(items);
    // 64 KiB of JSON is written at once too.
    writer.sendBulk({ type: 'item', id: 1, value: 'x'.repeat(70_000) });
    expect(target.writes).toHaveLength(4);
  });

  it('encodes text that is not ASCII at its UTF-8 length', async () => {
    const target = sink();
    const writer = new FrameWriter(target);
    const messages: Message[] = ['plain', 'déjà vu', '日本語', '😀 emoji', 'x'.repeat(100)].map(
      (value, id) => ({ type: 'result', id, value }),
    );
    for (const message of messages) writer.send(message);
    await turn();
    expect(new FrameDecoder().push(target.writes[0] as Buffer)).toEqual(messages);
  });

  it('throws to the sender for an unencodable message and keeps the others', async () => {
    const target = sink();
    const writer = new FrameWriter(target, 64);
    writer.send({ type: 'done' });
    expect(() =>
      writer.send({ type: 'call', id: 1, method: 'x', args: ['y'.repeat(100)] }),
    ).toThrow(ProtocolError);
    await turn();
    expect(new FrameDecoder().push(target.writes[0] as Buffer)).toEqual([{ type: 'done' }]);
  });

  it('writes nothing to a destroyed sink', async () => {
    const target = { ...sink(), destroyed: true };
    new FrameWriter(target).send({ type: 'done' });
    await turn();
    expect(target.writes).toHaveLength(0);
  });
});

describe('FrameWriter.cork', () => {
  it('holds frames until uncork, then writes them at once in one write', () => {
    const target = sink();
    const writer = new FrameWriter(target);
    writer.cork();
    writer.send({ type: 'cancel', id: 1 });
    writer.cork();
    writer.send({ type: 'cancel', id: 2 });
    writer.uncork();
    expect(target.writes).toHaveLength(0);
    writer.uncork();
    expect(target.writes).toHaveLength(1);
    expect(new FrameDecoder().push(target.writes[0] as Buffer)).toEqual([
      { type: 'cancel', id: 1 },
      { type: 'cancel', id: 2 },
    ]);
  });

  it('writes what was sent before cork with the rest, and nothing twice', async () => {
    const target = sink();
    const writer = new FrameWriter(target);
    writer.send({ type: 'done' });
    writer.cork();
    writer.send({ type: 'cancel', id: 1 });
    writer.uncork();
    await turn();
    expect(target.writes).toHaveLength(1);
    expect(new FrameDecoder().push(target.writes[0] as Buffer)).toEqual([
      { type: 'done' },
      { type: 'cancel', id: 1 },
    ]);
  });
});
