/**
 * Shared-secret authentication: the HMAC challenge of the opening exchange, both ways. A
 * wrong key costs the server no worker; a replayed answer fails; a client with a key will
 * not talk to a server that cannot prove it holds it.
 */
import { createServer as createNetServer, connect as netConnect, type Socket } from 'node:net';
import type { ClientOptions } from '@taskpool/client';
import { formatEndpoint, type Peer, PROTOCOL_VERSION } from '@taskpool/protocol';
import {
  AUTH_METHOD,
  authMac,
  encodeFrame,
  FrameDecoder,
  type Message,
  newNonce,
  parseMessage,
} from '@taskpool/protocol/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { securedClient, secureServer } from './helpers.js';

const KEY = 'correct horse battery staple';
const ROTATED = 'the next key';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listening(options: Parameters<typeof secureServer>[0]) {
  const server = secureServer(options);
  cleanups.push(() => server.close());
  const endpoint = formatEndpoint(await server.listen());
  return { server, endpoint };
}

function client(endpoint: string, options: Omit<Partial<ClientOptions>, 'interface'> = {}) {
  return securedClient(cleanups, endpoint, options);
}

/** A socket that reads frames one at a time, for speaking the protocol by hand. */
class Frames {
  readonly #decoder = new FrameDecoder();
  readonly #messages: Message[] = [];
  #wake: (() => void) | undefined;
  closed = false;
  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const value of this.#decoder.push(chunk)) this.#messages.push(parseMessage(value));
      this.#wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
    socket.on('error', () => {});
  }
  async next(): Promise<Message | undefined> {
    while (this.#messages.length === 0 && !this.closed) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    return this.#messages.shift();
  }
  send(message: unknown): void {
    this.socket.write(encodeFrame(message));
  }
}

function rawConnect(endpoint: string): Frames {
  const { port } = new URL(endpoint.replace('tcp:', 'http:'));
  return new Frames(netConnect(Number(port), '127.0.0.1'));
}

describe('shared-secret authentication', () => {
  it('lets a client with the key call, and tells handlers which key it proved', async () => {
    const { endpoint } = await listening({ auth: { keys: { k1: KEY } } });
    const good = client(endpoint, { auth: { keyId: 'k1', key: KEY } });
    await using co = await good.checkout();
    const peer = (await co.whoami()) as Peer;
    expect(peer).toMatchObject({ transport: 'tcp', keyId: 'k1', authenticated: true });
    // Authenticated: the interface description and error stacks reach it.
    expect(co.worker?.interface).not.toBeNull();
    await expect(co.fail()).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      remoteStack: expect.stringContaining('boom'),
    });
  });

  it('accepts every key id given, from the environment too, so keys can rotate', async () => {
    process.env.TASKPOOL_TEST_ROTATED_KEY = ROTATED;
    cleanups.push(async () => {
      delete process.env.TASKPOOL_TEST_ROTATED_KEY;
    });
    const { endpoint } = await listening({
      auth: { keys: { old: KEY, new: { env: 'TASKPOOL_TEST_ROTATED_KEY' } } },
    });
    const before = client(endpoint, { auth: { keyId: 'old', key: KEY } });
    const after = client(endpoint, { auth: { keyId: 'new', key: ROTATED } });
    expect(((await before.call('whoami', [])) as Peer).keyId).toBe('old');
    expect(((await after.call('whoami', [])) as Peer).keyId).toBe('new');
  });

  it('refuses a wrong key with AUTH_FAILED at once, and the worker serves the next client', async () => {
    const { server, endpoint } = await listening({
      auth: { keys: { k1: KEY } },
      maxWorkers: 1,
    });
    const wrong = client(endpoint, { auth: { keyId: 'k1', key: 'guess' } });
    await expect(wrong.checkout()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    const unknownId = client(endpoint, { auth: { keyId: 'k9', key: KEY } });
    await expect(unknownId.checkout()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    const none = client(endpoint);
    await expect(none.checkout()).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringContaining('requires authentication'),
    });
    // No user code ran for them: the one worker is still there, a spare, and serves.
    const good = client(endpoint, { auth: { keyId: 'k1', key: KEY } });
    const pid = await good.call('processId', []);
    const stats = server.stats();
    expect(stats.spawned).toBe(1);
    // The client without a key left on seeing the challenge: the server saw it go, not fail.
    expect(stats.rejected?.['auth-failed']).toBe(2);
    expect(typeof pid).toBe('number');
  });

  it('refuses a replayed answer: the next connection has another nonce', async () => {
    const { server, endpoint } = await listening({ auth: { keys: { k1: KEY } } });
    const first = rawConnect(endpoint);
    first.send({ type: 'open', protocol: PROTOCOL_VERSION });
    const challenge = await first.next();
    if (challenge?.type !== 'challenge')
      throw new Error(`expected a challenge, received ${challenge?.type}`);
    const clientNonce = newNonce();
    const answer = {
      type: 'auth',
      method: AUTH_METHOD,
      keyId: 'k1',
      nonce: clientNonce,
      mac: authMac(Buffer.from(KEY), 'client', {
        keyId: 'k1',
        serverNonce: challenge.nonce,
        clientNonce,
        binding: Buffer.alloc(0),
      }),
    };
    first.send(answer);
    expect((await first.next())?.type).toBe('hello');
    first.socket.destroy();

    const replay = rawConnect(endpoint);
    replay.send({ type: 'open', protocol: PROTOCOL_VERSION });
    const second = await replay.next();
    expect(second).toMatchObject({ type: 'challenge' });
    expect((second as { nonce: string }).nonce).not.toBe(challenge.nonce);
    replay.send(answer);
    expect(await replay.next()).toMatchObject({
      type: 'error',
      id: 0,
      error: { code: 'AUTH_FAILED' },
    });
    expect(await replay.next()).toBeUndefined();
    expect(server.stats().rejected?.['auth-failed']).toBe(1);
  });

  it('refuses a server without auth, which cannot prove it holds the key', async () => {
    const { endpoint } = await listening({});
    const keyed = client(endpoint, { auth: { keyId: 'k1', key: KEY } });
    await expect(keyed.checkout()).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringContaining('did not ask this client to authenticate'),
    });
  });

  it("refuses a server whose proof is wrong (it does not hold the client's key)", async () => {
    // A stand-in that challenges, takes any answer, and proves nothing.
    const impostor = createNetServer((socket) => {
      const frames = new Frames(socket);
      void (async () => {
        await frames.next();
        frames.send({
          type: 'challenge',
          protocol: PROTOCOL_VERSION,
          methods: [AUTH_METHOD],
          nonce: newNonce(),
        });
        await frames.next();
        frames.send({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          pid: 1,
          server: null,
          worker: 1,
          interface: null,
          auth: { mac: Buffer.alloc(32).toString('base64') },
        });
      })();
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => impostor.close(resolve)));
    const { port } = impostor.address() as { port: number };
    const keyed = client(`tcp://127.0.0.1:${port}`, { auth: { keyId: 'k1', key: KEY } });
    await expect(keyed.checkout()).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringContaining('could not prove it holds key "k1"'),
    });
  });
});

describe('what strangers are not told', () => {
  it('keeps stacks and the interface from an unauthenticated TCP peer', async () => {
    const { endpoint } = await listening({});
    const plain = client(endpoint);
    await using co = await plain.checkout();
    expect(co.worker).toMatchObject({ interface: null, interfaceWithheld: true });
    const error = await co.fail().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'REMOTE_ERROR', message: 'boom' });
    expect((error as { remoteStack?: string }).remoteStack).toBeUndefined();
    expect((await co.whoami()) as Peer).toMatchObject({ authenticated: false, keyId: null });
  });

  it('sends stacks to no one with errorStacks: never', async () => {
    const { endpoint } = await listening({ auth: { keys: { k1: KEY } }, errorStacks: 'never' });
    const good = client(endpoint, { auth: { keyId: 'k1', key: KEY } });
    const error = await good.call('fail', []).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'REMOTE_ERROR' });
    expect((error as { remoteStack?: string }).remoteStack).toBeUndefined();
  });
});
