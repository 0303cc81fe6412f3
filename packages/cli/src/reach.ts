/**
 * How the commands reach a server: at once, or failing at once saying why, unless `--wait`
 * gives it time; protected as the connection options say (see security.ts); and the
 * `--timeout` and `--wait` options every such command reads.
 *
 * @module
 */
import { type Checkout, type Client, createClient } from '@taskpool/client';
import { MAX_TIMER_MS } from '@taskpool/protocol';
import type { ConnectSecurity } from './security.js';
import { integerOption } from './usage.js';

/** How long a command waits for a worker, and for what it asks, unless `--timeout` says. */
const DEFAULT_TIMEOUT = 30_000;

/** `--timeout MS`: at least 1 (a deadline of 0 would be INVALID_OPTION in the client). */
export function timeoutOption(value: string | undefined): number {
  return integerOption('timeout', value, { min: 1, max: MAX_TIMER_MS }) ?? DEFAULT_TIMEOUT;
}

/** `--wait MS`: how long to keep trying to reach a server; 0 (fail at once) by default. */
export function waitOption(value: string | undefined): number {
  return integerOption('wait', value, { max: MAX_TIMER_MS }) ?? 0;
}

/**
 * A client for a command: no connection until asked, protected as `security` says
 * (`connectSecurity` reads it from the command's options), and the server's hello may take
 * as long as a call, so that a busy server's own refusal (SERVER_BUSY, after its
 * connectionTimeout) comes before the client gives up.
 */
export function commandClient(
  endpoint: string,
  timeout: number,
  security: ConnectSecurity,
  maxWorkers = 1,
): Client {
  return createClient({
    connect: endpoint,
    minWorkers: 0,
    maxWorkers,
    timeout,
    connectTimeout: timeout,
    ...security,
  });
}

/** Checkout options that fail at once when no server can be reached, unless `wait` allows. */
export function reachOptions(
  wait: number,
  timeout: number,
): { timeout: number; waitForServer: number } {
  return { timeout: Math.min(wait + timeout, MAX_TIMER_MS), waitForServer: wait };
}

/** A checkout on the server, and its client: both closed when disposed. */
export interface Reached extends AsyncDisposable {
  readonly checkout: Checkout;
}

/**
 * Checks out a worker of the server at `endpoint`. A command has no reason to wait for a
 * server that may come later: when none can be reached it rejects at the first failed
 * attempt, saying why, unless `wait` (ms) gives it time. A server whose workers are all busy
 * holds the connection until one is free or its connectionTimeout refuses it (SERVER_BUSY);
 * `timeout` bounds that wait, and the calls made on the checkout. A server this client
 * cannot authenticate with (AUTH_FAILED), or may not talk to in plaintext
 * (INSECURE_CONNECT), fails it at once too, however long `wait` is.
 */
export async function reach(
  endpoint: string,
  wait: number,
  timeout: number,
  security: ConnectSecurity,
): Promise<Reached> {
  const client = commandClient(endpoint, timeout, security);
  try {
    const checkout = await client.checkout(reachOptions(wait, timeout));
    return {
      checkout,
      [Symbol.asyncDispose]: async () => {
        await checkout.release();
        await client.close();
      },
    };
  } catch (error) {
    await client.close();
    throw error;
  }
}
