/**
 * A worker's own hung-handler watchdog, which holds when its supervisor is gone (the
 * original armed `alarm()` in the worker). The main thread bumps a counter in shared
 * memory on a timer; a small thread, which a blocked event loop cannot stop, SIGKILLs the
 * process when the counter has not moved for `timeout` ms of its own monotonic clock. A
 * check that comes much later than asked means the whole process was paused (SIGSTOP, a
 * suspended VM): the wait starts over instead of killing.
 *
 * @module
 */
/** The thread: plain JavaScript, evaluated as CommonJS. */
const GUARD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const beat = new Int32Array(workerData.buffer);
const { timeout, period, label } = workerData;
let seen = Atomics.load(beat, 0);
let since = performance.now();
let lastCheck = since;
for (;;) {
  Atomics.wait(beat, 1, 0, period);
  const now = performance.now();
  const value = Atomics.load(beat, 0);
  if (value !== seen || now - lastCheck > period * 3 + 1000) {
    seen = value;
    since = now;
  } else if (now - since > timeout) {
    try {
      writeSync(2, label + ': event loop blocked for ' + Math.round(now - since) + ' ms (hungWorkerTimeout ' + timeout + ' ms), killing this worker\\n');
    } catch {}
    process.kill(process.pid, 'SIGKILL');
  }
  lastCheck = now;
}
`;

/**
 * Starts the guard; it ends with the process and never keeps it alive. `node:worker_threads`
 * is loaded here, not when the worker starts: loading it costs every worker's start-up.
 */
export async function startHangGuard(timeout: number, label: string): Promise<void> {
  const { Worker } = await import('node:worker_threads');
  const period = Math.min(Math.max(Math.floor(timeout / 5), 10), 1_000);
  const buffer = new SharedArrayBuffer(8);
  const beat = new Int32Array(buffer);
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
  setInterval(() => Atomics.add(beat, 0, 1), period).unref();
}
