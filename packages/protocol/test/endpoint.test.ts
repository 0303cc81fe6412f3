import { formatEndpoint, InvalidOptionError, parseEndpoint } from '@taskpool/protocol';
import { describe, expect, it } from 'vitest';

describe('parseEndpoint', () => {
  it.each([
    ['unix:/tmp/a.sock', { kind: 'unix', path: '/tmp/a.sock' }],
    ['/tmp/b.sock', { kind: 'unix', path: '/tmp/b.sock' }],
    ['tcp://127.0.0.1:7000', { kind: 'tcp', host: '127.0.0.1', port: 7000 }],
    ['tcp://:7001', { kind: 'tcp', host: '127.0.0.1', port: 7001 }],
    ['tcp://[::1]:7002', { kind: 'tcp', host: '::1', port: 7002 }],
    [{ path: '/tmp/c.sock' }, { kind: 'unix', path: '/tmp/c.sock' }],
    [{ port: 0 }, { kind: 'tcp', host: '127.0.0.1', port: 0 }],
  ] as const)('reads %j', (input, expected) => {
    const endpoint = parseEndpoint(input);
    expect(endpoint).toEqual(expected);
    expect(parseEndpoint(formatEndpoint(endpoint))).toEqual(endpoint);
  });

  it.each([['http://x'], ['tcp://host'], ['tcp://h:99999'], ['unix:'], [''], [{}], [42]])(
    'refuses %j with a message saying what was expected',
    (input) => {
      expect(() => parseEndpoint(input as never)).toThrow(InvalidOptionError);
      expect(() => parseEndpoint(input as never)).toThrow(/expected/);
    },
  );
});
