import { ProtocolError } from '@taskpool/protocol';
import { encodeFrame, encodeFrames, FrameDecoder } from '@taskpool/protocol/internal';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function lengthPrefix(size: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(size, 0);
  return header;
}

function splitAt(buffer: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (buffer.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let last = 0;
  for (const point of points) {
    parts.push(buffer.subarray(last, point));
    last = point;
  }
  parts.push(buffer.subarray(last));
  return parts;
}

describe('FrameDecoder', () => {
  it('decodes many frames from one read', () => {
    const decoder = new FrameDecoder();
    const values = [{ a: 1 }, 'two', [3], null, 4.5];
    expect(decoder.push(encodeFrames(values))).toEqual(values);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes a frame split into single bytes', () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame({ hello: 'wörld 𝇚', n: [1, 2, 3] });
    const out: unknown[] = [];
    for (const byte of frame) out.push(...decoder.push(Buffer.from([byte])));
    expect(out).toEqual([{ hello: 'wörld 𝇚', n: [1, 2, 3] }]);
  });

  it('decodes a large frame delivered in many chunks, and the frame after it', () => {
    const decoder = new FrameDecoder();
    const big = 'x'.repeat(1_000_000);
    const bytes = encodeFrames([big, 'after']);
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 65_536) {
      out.push(...decoder.push(bytes.subarray(i, i + 65_536)));
    }
    expect(out).toEqual([big, 'after']);
  });

  it('refuses a 4 GiB length prefix before buffering anything', () => {
    const decoder = new FrameDecoder();
    const error = (() => {
      try {
        decoder.push(Buffer.concat([lengthPrefix(0xffffffff), Buffer.from('{"a":')]));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('PROTOCOL_ERROR');
    expect((error as ProtocolError).message).toMatch(/exceeds maxFrameBytes/);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('honours a smaller maxFrameBytes and stays failed afterwards', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 8 });
    expect(() => decoder.push(encodeFrame('0123456789'))).toThrow(ProtocolError);
    expect(() => decoder.push(encodeFrame(1))).toThrow(/exceeds maxFrameBytes 8/);
  });

  it('throws a ProtocolError for a body that is not JSON', () => {
    const decoder = new FrameDecoder();
    const body = Buffer.from('{not json');
    expect(() => decoder.push(Buffer.concat([lengthPrefix(body.length), body]))).toThrow(
      /frame body is not JSON/,
    );
  });

  it('throws a ProtocolError for an empty body', () => {
    expect(() => new FrameDecoder().push(lengthPrefix(0))).toThrow(ProtocolError);
  });

  it('keeps a truncated frame waiting without emitting anything', () => {
    const decoder = new FrameDecoder();
    const frame = encodeFrame({ call: 'truncated' });
    expect(decoder.push(frame.subarray(0, frame.length - 3))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(frame.length - 3 - 4);
  });

  it('round-trips any JSON value through any split of reads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: 'binary' })), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (values, cuts) => {
          const decoder = new FrameDecoder();
          const out: unknown[] = [];
          for (const part of splitAt(encodeFrames(values), cuts)) out.push(...decoder.push(part));
          // JSON normalises -0 to 0; compare with what JSON itself gives back.
          expect(out).toEqual(values.map((value) => JSON.parse(JSON.stringify(value))));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws anything but a ProtocolError on random bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 256 }), { maxLength: 8 }), (chunks) => {
        const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
        for (const chunk of chunks) {
          try {
            decoder.push(Buffer.from(chunk));
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
            return;
          }
        }
        expect(decoder.bufferedBytes).toBeLessThanOrEqual(2048);
      }),
      { numRuns: 500 },
    );
  });
});

describe('encodeFrame', () => {
  it('writes a big-endian length and UTF-8 JSON', () => {
    const frame = encodeFrame({ λ: '𝇚' });
    const body = JSON.stringify({ λ: '𝇚' });
    expect(frame.readUInt32BE(0)).toBe(Buffer.byteLength(body));
    expect(frame.subarray(4).toString('utf8')).toBe(body);
  });

  it('refuses values JSON has no form for, and oversized bodies', () => {
    expect(() => encodeFrame(undefined)).toThrow(ProtocolError);
    expect(() => encodeFrame(() => 1)).toThrow(/JSON has no form/);
    expect(() => encodeFrame('x'.repeat(100), 10)).toThrow(/exceeds maxFrameBytes 10/);
  });
});
