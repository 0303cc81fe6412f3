/**
 * A plaintext connection to a host name: every address the name resolves to must be on
 * loopback, not only the first one (a connect tries them all). The resolver stands in for
 * DNS, which a test cannot point at an address beyond loopback.
 */
import type { LookupAddress, LookupOneOptions } from 'node:dns';
import { parseEndpoint } from '@taskpool/protocol';
import { describe, expect, it } from 'vitest';
import { loopbackOnly } from '../src/connection-security.js';

const endpoint = parseEndpoint('tcp://svc.test:7000');

function resolving(addresses: LookupAddress[]) {
  return (
    _hostname: string,
    _options: unknown,
    callback: (error: NodeJS.ErrnoException | null, all: LookupAddress[]) => void,
  ) => callback(null, addresses);
}

function lookUp(
  addresses: LookupAddress[],
  options: LookupOneOptions | { all: true } = { all: true },
) {
  return new Promise<{ error: unknown; result: unknown }>((resolve) => {
    loopbackOnly(endpoint, resolving(addresses))('svc.test', options as never, (error, result) =>
      resolve({ error, result }),
    );
  });
}

describe('a plaintext connection to a name', () => {
  it('goes ahead when every address is loopback', async () => {
    const addresses = [
      { address: '127.0.0.2', family: 4 },
      { address: '::1', family: 6 },
    ];
    expect(await lookUp(addresses)).toEqual({ error: null, result: addresses });
    expect((await lookUp(addresses, { family: 0 })).result).toBe('127.0.0.2');
  });

  it('is refused with INSECURE_CONNECT when any address is beyond loopback, not only the first', async () => {
    const { error } = await lookUp([
      { address: '127.0.0.2', family: 4 },
      { address: '192.0.2.7', family: 4 },
    ]);
    expect(error).toMatchObject({
      code: 'INSECURE_CONNECT',
      message: expect.stringContaining('192.0.2.7'),
    });
  });
});
