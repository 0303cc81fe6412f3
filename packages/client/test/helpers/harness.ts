/**
 * The client tests' harness: a real server process serving one of the fixtures, and a
 * client connected to it, both disposed at the end of the test.
 */
import { type Client, type ClientOptions, createClient, type MethodsOf } from '@taskpool/client';
import type { ForkedServer, ForkServerOptions } from '@taskpool/server';
import { fixtureOf, startServerWith } from '../../../../test/helpers/processes.js';
import type { handlers } from '../fixtures/scenario-worker.js';

export { childrenOf, eventually, isAlive } from '../../../../test/helpers/processes.js';

/** Starts a real server process serving one of the client's fixtures. */
export function serve(
  name: string,
  options: Omit<ForkServerOptions, 'module'> = {},
): Promise<ForkedServer> {
  return startServerWith(fixtureOf('client', name), { spares: 2, ...options });
}

/** The methods of the scenario worker, as a client sees them. */
export type ScenarioMethods = MethodsOf<typeof handlers>;

type Options = Omit<ClientOptions, 'connect' | 'interface'>;

/** A client of the scenario worker, typed from its handlers. */
export function clientOf(server: ForkedServer, options: Options = {}): Client<ScenarioMethods> {
  return createClient<ScenarioMethods>({ connect: server.endpoint, ...options });
}

/** A client without types. */
export function untypedClientOf(server: ForkedServer, options: Options = {}): Client {
  return createClient({ connect: server.endpoint, ...options });
}

/** Waits `ms` milliseconds. */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the client holds `count` connected workers (so short deadlines test calls, not start-up). */
export async function warm<T extends Client<object>>(client: T, count = 1): Promise<T> {
  const deadline = Date.now() + 10_000;
  while (client.stats().idle < count) {
    if (Date.now() > deadline)
      throw new Error(`client not warm in 10 s: ${JSON.stringify(client.stats())}`);
    await pause(10);
  }
  return client;
}
