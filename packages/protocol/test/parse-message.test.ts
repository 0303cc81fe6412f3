import {
  encodeFrame,
  FrameDecoder,
  type Message,
  ProtocolError,
  parseMessage,
} from '@taskpool/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const valid: Message[] = [
  { type: 'hello', protocol: 1, pid: 42, server: 'x', worker: 1, interface: null },
  { type: 'call', id: 0, method: 'hash', args: ['secret'] },
  {
    type: 'call',
    id: 1,
    method: null,
    args: [1, [2]],
    deadline: 1_700_000_000_000,
    scope: { rid: 'a' },
  },
  { type: 'result', id: 1, value: { ok: true }, log: { start: 1, logs: [[0.1, 30, 'hi']] } },
  { type: 'error', id: 2, error: { code: 'REMOTE_ERROR', name: 'Error', message: 'boom' } },
  { type: 'cancel', id: 3 },
  { type: 'done' },
  { type: 'retire', reason: 'maxRequestsPerWorker' },
];

describe('parseMessage', () => {
  it.each(valid.map((message) => [message.type, message]))('accepts a valid %s', (_, message) => {
    expect(parseMessage(JSON.parse(JSON.stringify(message)))).toEqual(message);
  });

  it.each([
    ['a number', 5],
    ['null', null],
    ['an array', ['do', {}, 'x']],
    ['an unknown type', { type: 'sk' }],
    ['a call without args', { type: 'call', id: 1, method: 'x' }],
    ['a negative id', { type: 'cancel', id: -1 }],
    ['a fractional id', { type: 'cancel', id: 1.5 }],
    [
      'a hello with a string protocol',
      { type: 'hello', protocol: '1', pid: 1, server: null, worker: 1, interface: null },
    ],
  ])('refuses %s with a ProtocolError', (_, value) => {
    expect(() => parseMessage(value)).toThrow(ProtocolError);
  });

  it('says where a message is wrong', () => {
    expect(() => parseMessage({ type: 'call', id: 'one', method: 'x', args: [] })).toThrow(/at id/);
  });

  it('does not let __proto__ keys reach any prototype', () => {
    const text =
      '{"type":"call","id":1,"method":"x","args":[{"__proto__":{"polluted":1}}],"__proto__":{"polluted":2}}';
    const decoder = new FrameDecoder();
    const body = Buffer.from(text);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length, 0);
    const [value] = decoder.push(Buffer.concat([header, body]));
    const message = parseMessage(value);
    expect(message.type).toBe('call');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(message)).toBe(Object.prototype);
  });

  it('turns any decoded JSON into a message or a ProtocolError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({
            type: fc.constantFrom(
              'hello',
              'call',
              'result',
              'error',
              'cancel',
              'done',
              'retire',
              'x',
            ),
            id: fc.jsonValue(),
          }),
        ),
        (value) => {
          const [decoded] = new FrameDecoder().push(encodeFrame(value));
          try {
            parseMessage(decoded);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
