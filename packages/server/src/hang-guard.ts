/**
 * A worker's own hung-handler watchdog, which holds when its supervisor is gone (the
 * original armed `alarm()` in the worker). The main thread bumps a counter in shared
 * memory on a timer; a small thread, which a blocked event loop cannot stop, SIGKILLs the
 * process when the counter has not moved for `timeout` ms of its own monotonic clock. A
 * check that comes much later than asked means the whole process was paused (SIGSTOP, a
 * suspended VM): that time is not counted as blocked. It judges only once armed (when the
 * worker is ready): `setup` is bounded by `setupTimeout` instead.
 *
 * @module
 */

/** Slots of the shared Int32Array. */
const BEAT = 0;
/** Never written: the thread sleeps on it. */
const SLEEP = 1;
const ARMED = 2;

/** The thread: plain JavaScript, evaluated as CommonJS. */
const GUARD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const state = new Int32Array(workerData.buffer);
const { timeout, period, label } = workerData;
let seen = Atomics.load(state, ${BEAT});
let since = performance.now();
let lastCheck = since;
for (;;) {
  Atomics.wait(state, ${SLEEP}, 0, period);
  const now = performance.now();
  const value = Atomics.load(state, ${BEAT});
  const gap = now - lastCheck;
  if (value !== seen || Atomics.load(state, ${ARMED}) === 0) {
    seen = value;
    since = now;
  } else if (gap > period * 2) {
    // The whole process was paused (or this thread very late): that time is not a hang.
    since += gap - period;
  } else if (now - since > timeout) {
    try {
      writeSync(2, label + ': event loop blocked for ' + Math.round(now - since) + ' ms (hungWorkerTimeout ' + timeout + ' ms), killing this worker\\n');
    } catch {}
    process.kill(process.pid, 'SIGKILL');
  }
  lastCheck = now;
}
`;

/** A started guard. */
interface HangGuard {
  /** From now on, a blocked event loop kills the worker. */
  arm(): void;
}

/**
 * Starts the guard (unarmed); it ends with the process and never keeps it alive.
 * `node:worker_threads` is loaded here, not with the worker's code, whose start it slowed.
 */
export function startHangGuard(timeout: number, label: string): HangGuard {
  const period = Math.min(Math.max(Math.floor(timeout / 5), 10), 1_000);
  const buffer = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const state = new Int32Array(buffer);
  void import('node:worker_threads').then(({ Worker }) => {
    const guard = new Worker(GUARD_SOURCE, {
      eval: true,
      workerData: { buffer, timeout, period, label },
      // Small, but not so small that the thread runs out of memory while it boots.
      resourceLimits: { maxOldGenerationSizeMb: 16, stackSizeMb: 1 },
      stdout: false,
      stderr: false,
    });
    guard.unref();
    guard.on('error', () => {
      // Without its thread the worker is still watched by its supervisor.
    });
  });
  setInterval(() => Atomics.add(state, BEAT, 1), period).unref();
  return { arm: () => Atomics.store(state, ARMED, 1) };
}
