/**
 * How `call` and `describe` reach a server: at once, or failing at once saying why, unless
 * `--wait` gives it time.
 *
 * @module
 */
import { type Checkout, type Client, createClient } from '@taskpool/client';
import { MAX_TIMER_MS } from '@taskpool/protocol';

/** A checkout on the server, and its client: both closed when disposed. */
export interface Reached extends AsyncDisposable {
  readonly checkout: Checkout;
}

/**
 * Checks out a worker of the server at `endpoint`. A command has no reason to wait for a
 * server that may come later: when none can be reached it rejects at the first failed
 * attempt, saying why, unless `wait` (ms) gives it time. A server whose workers are all busy
 * holds the connection until one is free or its connectionTimeout refuses it (SERVER_BUSY);
 * `timeout` bounds that wait, and the calls made on the checkout.
 */
export async function reach(endpoint: string, wait: number, timeout: number): Promise<Reached> {
  const client: Client = createClient({
    connect: endpoint,
    minWorkers: 0,
    maxWorkers: 1,
    timeout,
    // The server's hello may wait as long as the call: a busy server's own refusal
    // (SERVER_BUSY, after its connectionTimeout) then comes before the client gives up.
    connectTimeout: timeout,
  });
  try {
    const checkout = await client.checkout({
      timeout: Math.min(wait + timeout, MAX_TIMER_MS),
      waitForServer: wait,
    });
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
