/**
 * The load of `taskpool bench`: `concurrency` lanes, each making one call after another
 * until `calls` calls have been started or the run is stopped (its duration passed, or
 * SIGINT). By default each lane holds one checkout for the whole run (`co.call`), as a
 * program that keeps its workers would; with `checkoutPerCall` each call takes its own
 * (`client.call`), so the pool's checkout and release (and the worker's `checkoutDone`)
 * are measured too.
 *
 * @module
 */
import { hrtime } from 'node:process';
import { type Checkout, type Client, isTaskpoolError } from '@taskpool/client';
import { Tally } from './tally.js';

export interface BenchPlan {
  client: Client;
  method: string;
  args: unknown[];
  /** Calls to make in all; Infinity to run until stopped. */
  calls: number;
  /** Lanes making calls at once. */
  concurrency: number;
  /** One checkout per call instead of one per lane for the run. */
  checkoutPerCall: boolean;
  /** The deadline of each call, and of each wait for a worker, in ms. */
  timeout: number;
}

/** A run under way: its tally, read live, and how to end it early. */
export interface BenchRun {
  readonly tally: Tally;
  /** `performance.now()` when the calls began. */
  readonly startedAt: number;
  /** Starts no further call; the calls in flight finish. */
  stop(): void;
  /** Resolves once every lane has finished, with the time the calls took, in ms. */
  readonly finished: Promise<number>;
}

/**
 * Starts the calls on checkouts taken already (one per lane; none with `checkoutPerCall`).
 * The checkouts are released as the lanes finish.
 */
export function startBench(plan: BenchPlan, checkouts: Checkout[]): BenchRun {
  const tally = new Tally();
  let started = 0;
  let stopped = false;
  const next = () => {
    if (stopped || started >= plan.calls) return false;
    started++;
    return true;
  };
  const startedAt = performance.now();
  const lanes = plan.checkoutPerCall
    ? Array.from({ length: plan.concurrency }, () => oneShotLane(plan, tally, next))
    : checkouts.map((checkout) => heldLane(plan, tally, next, checkout));
  const finished = Promise.all(lanes).then(() => performance.now() - startedAt);
  return {
    tally,
    startedAt,
    stop: () => {
      stopped = true;
    },
    finished,
  };
}

/** Each call on its own checkout. */
async function oneShotLane(plan: BenchPlan, tally: Tally, next: () => boolean): Promise<void> {
  // A server gone mid-run fails each call at once rather than after the whole timeout.
  const options = { timeout: plan.timeout, waitForServer: 0 };
  while (next()) {
    const start = hrtime.bigint();
    try {
      await plan.client.call(plan.method, plan.args, options);
      tally.succeeded(hrtime.bigint() - start);
    } catch (error) {
      tally.fail(error, hrtime.bigint() - start);
    }
  }
}

/**
 * Every call on the lane's checkout. A fatal failure (a timeout, a lost worker) poisons the
 * checkout: it is released and the lane takes a new one for its next call (the wait for it
 * counts in that call's latency, and its failure as that call's).
 */
async function heldLane(
  plan: BenchPlan,
  tally: Tally,
  next: () => boolean,
  first: Checkout,
): Promise<void> {
  const options = { timeout: plan.timeout };
  let checkout: Checkout | undefined = first;
  try {
    while (next()) {
      const start = hrtime.bigint();
      try {
        // A server gone mid-run fails the lane's next checkout at once.
        checkout ??= await plan.client.checkout({ timeout: plan.timeout, waitForServer: 0 });
        await checkout.call(plan.method, plan.args, options);
        tally.succeeded(hrtime.bigint() - start);
      } catch (error) {
        tally.fail(error, hrtime.bigint() - start);
        if (checkout && (!isTaskpoolError(error) || error.fatal)) {
          const poisoned = checkout;
          checkout = undefined;
          await poisoned.release();
        }
      }
    }
  } finally {
    await checkout?.release();
  }
}
