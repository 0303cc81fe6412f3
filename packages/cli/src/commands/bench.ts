/**
 * `taskpool bench <endpoint> <method> [json-arg ...]`: load on a running server, then
 * calls/s, latency percentiles and failures by code. See `startBench` for how the calls are
 * made.
 *
 * Exit codes: 0 when the run completed and at least one call succeeded (failures are
 * counted and reported, not fatal: a method that fails for some inputs is worth measuring);
 * 1 when the server cannot be reached, or when every call failed (nothing was measured but
 * failures: a wrong method name or arguments, most likely); 2 bad usage.
 */
import type { Checkout, Client } from '@taskpool/client';
import { MAX_TIMER_MS } from '@taskpool/protocol';
import { readArguments } from '../arguments.js';
import { showProgress } from '../bench/progress.js';
import { benchReport, formatBenchReport } from '../bench/report.js';
import { type BenchPlan, startBench } from '../bench/run.js';
import { commandClient, reachOptions, timeoutOption, waitOption } from '../reach.js';
import { CONNECT_FLAGS, CONNECT_OPTIONS, connectSecurity } from '../security.js';
import { integerOption, parseCommand, UsageError } from '../usage.js';

/** Calls made when neither `--calls` nor `--duration` is given. */
const DEFAULT_CALLS = 10_000;

export async function runBench(args: string[]): Promise<number> {
  const { positionals, values } = parseCommand(
    args,
    ['calls', 'concurrency', 'duration', 'timeout', 'wait', ...CONNECT_OPTIONS],
    ['checkout-per-call', 'json', ...CONNECT_FLAGS],
  );
  const [endpoint, method, ...rest] = positionals;
  if (endpoint === undefined || method === undefined) {
    throw new UsageError('bench takes an endpoint and a method');
  }
  const duration = integerOption('duration', values.duration, {
    min: 1,
    max: Math.floor(MAX_TIMER_MS / 1_000),
  });
  // With --duration alone the run lasts that long, however many calls it makes.
  const calls =
    integerOption('calls', values.calls, { min: 1 }) ??
    (duration === undefined ? DEFAULT_CALLS : Number.POSITIVE_INFINITY);
  const concurrency = integerOption('concurrency', values.concurrency, { min: 1 }) ?? 1;
  const timeout = timeoutOption(values.timeout);
  const wait = waitOption(values.wait);
  const checkoutPerCall = values['checkout-per-call'] === true;
  const security = connectSecurity(values);
  const methodArgs = await readArguments('bench', rest);
  // A lane that would make no call would hold a worker for nothing.
  const lanes = Math.min(concurrency, calls);

  const client = commandClient(endpoint, timeout, security, lanes);
  try {
    const plan: BenchPlan = {
      client,
      method,
      args: methodArgs,
      calls,
      concurrency: lanes,
      checkoutPerCall,
      timeout,
    };
    // The server must be reachable before the clock starts: a server that is not fails the
    // command (exit 1) as `call` does, saying why, instead of a run of failures.
    const checkouts = await takeCheckouts(client, checkoutPerCall ? 1 : lanes, wait, timeout);
    if (checkoutPerCall) await Promise.all(checkouts.map((checkout) => checkout.release()));
    const run = startBench(plan, checkoutPerCall ? [] : checkouts);
    const stopProgress = showProgress(run.tally, run.startedAt);
    const timer =
      duration === undefined ? undefined : setTimeout(() => run.stop(), duration * 1_000);
    // Ctrl-C ends the run early, with its report; a second one kills as usual.
    const interrupt = () => run.stop();
    process.once('SIGINT', interrupt);
    let elapsed: number;
    try {
      elapsed = await run.finished;
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', interrupt);
      stopProgress();
    }
    const report = benchReport(
      { endpoint, method, concurrency: lanes, checkoutPerCall },
      run.tally,
      elapsed,
    );
    console.log(values.json ? JSON.stringify(report, null, 2) : formatBenchReport(report));
    if (report.ok > 0) return 0;
    console.error(`taskpool: bench: no call succeeded (${report.failed} failed)`);
    return 1;
  } finally {
    await client.close();
  }
}

/**
 * `n` checkouts, waiting `wait` ms at most for a server that cannot be reached yet. When
 * one cannot be had, the others are released and its error is thrown.
 */
async function takeCheckouts(
  client: Client,
  n: number,
  wait: number,
  timeout: number,
): Promise<Checkout[]> {
  const options = reachOptions(wait, timeout);
  const taken = await Promise.allSettled(Array.from({ length: n }, () => client.checkout(options)));
  const failure = taken.find((result) => result.status === 'rejected');
  const checkouts = taken.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );
  if (failure) {
    await Promise.all(checkouts.map((checkout) => checkout.release()));
    throw failure.reason;
  }
  return checkouts;
}
