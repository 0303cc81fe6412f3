/**
 * codec: frames/s for encode+decode of a ~100-byte call message, next to bare
 * JSON.stringify + JSON.parse of the same object (the floor any JSON codec pays).
 */
import { encodeFrame, FrameBatch, FrameDecoder, parseMessage } from '@taskpool/protocol/internal';

const message = {
  type: 'call',
  id: 123456,
  method: 'hash',
  args: ['correct horse battery staple', { cost: 10, tag: 'bench' }],
} as const;

export interface CodecFigures {
  name: string;
  framesPerSecond: number;
}

function measure(name: string, frames: number, run: (frames: number) => number): CodecFigures {
  run(Math.min(frames, 50_000)); // warm up
  const started = process.hrtime.bigint();
  const checksum = run(frames);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (checksum !== frames) throw new Error(`${name}: decoded ${checksum} of ${frames} frames`);
  return { name, framesPerSecond: frames / seconds };
}

const baseline = (frames: number) => {
  let count = 0;
  for (let i = 0; i < frames; i++) {
    const back = JSON.parse(JSON.stringify(message)) as { id: number };
    if (back.id === message.id) count++;
  }
  return count;
};

const oneFramePerWrite = (frames: number) => {
  const decoder = new FrameDecoder();
  let count = 0;
  for (let i = 0; i < frames; i++) {
    for (const value of decoder.push(encodeFrame(message))) {
      if ((value as { id: number }).id === message.id) count++;
    }
  }
  return count;
};

const batched = (frames: number) => {
  const decoder = new FrameDecoder();
  const batch = new FrameBatch();
  let count = 0;
  for (let i = 0; i < frames; i += 64) {
    for (let j = 0; j < 64 && i + j < frames; j++) batch.add(message);
    for (const value of decoder.push(batch.take())) {
      if ((value as { id: number }).id === message.id) count++;
    }
  }
  return count;
};

const withParseGate = (frames: number) => {
  const decoder = new FrameDecoder();
  let count = 0;
  for (let i = 0; i < frames; i++) {
    for (const value of decoder.push(encodeFrame(message))) {
      const parsed = parseMessage(value);
      if (parsed.type === 'call' && parsed.id === message.id) count++;
    }
  }
  return count;
};

export function runCodec(frames = 500_000): CodecFigures[] {
  return [
    measure('JSON.stringify + JSON.parse', frames, baseline),
    measure('encodeFrame + FrameDecoder (1 frame/write)', frames, oneFramePerWrite),
    measure('FrameBatch + FrameDecoder (64 frames/write)', frames, batched),
    measure('1 frame/write + parseMessage (the gate)', frames, withParseGate),
  ];
}

export function printCodec(figures: CodecFigures[]): void {
  const base = figures[0]?.framesPerSecond ?? 1;
  console.log(`codec: ${JSON.stringify(message).length}-byte call message`);
  for (const { name, framesPerSecond } of figures) {
    const ratio = framesPerSecond / base;
    console.log(
      `  ${name.padEnd(48)} ${Math.round(framesPerSecond).toLocaleString('en-US').padStart(12)} frames/s  ${ratio.toFixed(2)}x  (overhead ${((1 / ratio - 1) * 100).toFixed(1)}%)`,
    );
  }
}
