/**
 * The queue bench's two processes, bundled into .build/queue-child.mjs:
 *
 * - `figure <job>`: one system on one workload. This process is the submitter; it forks
 *   the consumer (the same bundle, `consumer <job>`), warms both up, measures, checks every
 *   result and the consumer's job count, and sends one `FigureReply` to the orchestrator.
 * - `consumer <job>`: one worker of the system with `consumerConcurrency`, driven over IPC
 *   (`pause` stops it, `go` starts a new one, `close` stops and exits).
 *
 * Every wait has a deadline; the orchestrator also kills the whole process group after.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bullmqConsumer, bullmqProducer } from './bullmq.js';
import { openCpuProbe, serversOf } from './redis.js';
import type {
  Consumer,
  FigureJob,
  FigureReply,
  FigureResult,
  FromConsumer,
  Producer,
  QueueSystemName,
  QueueTarget,
  ToConsumer,
} from './spec.js';
import { taskpoolConsumer, taskpoolProducer } from './taskpool.js';

function modeOf(system: QueueSystemName) {
  if (system === 'bullmq') throw new Error('bullmq has no taskpool mode');
  return system.slice('taskpool-'.length) as 'simple' | 'recoverable' | 'reliable';
}

function producerFor(system: QueueSystemName, target: QueueTarget): Promise<Producer> {
  if (system === 'bullmq') return bullmqProducer(target);
  return Promise.resolve(taskpoolProducer(modeOf(system), target));
}

function consumerFor(system: QueueSystemName, target: QueueTarget): Promise<Consumer> {
  if (system === 'bullmq') return bullmqConsumer(target);
  return taskpoolConsumer(modeOf(system), target);
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1_000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const message = (error: unknown) =>
  error instanceof Error ? (error.stack ?? error.message) : String(error);

/** The consumer child as the producer sees it. */
class ConsumerProcess {
  readonly #child: ChildProcess;
  readonly #inbox: FromConsumer[] = [];
  #wake: () => void = () => {};
  #exit: string | undefined;

  constructor(job: FigureJob) {
    this.#child = fork(fileURLToPath(import.meta.url), ['consumer', JSON.stringify(job)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (m) => {
      this.#inbox.push(m as FromConsumer);
      this.#wake();
    });
    this.#child.once('exit', (code, signal) => {
      this.#exit = `consumer exited (${code ?? signal})`;
      this.#wake();
    });
  }

  send(message: ToConsumer): void {
    this.#child.send(message);
  }

  /** The next message, which must be of `type`. */
  next<T extends FromConsumer['type']>(
    type: T,
    ms: number,
  ): Promise<Extract<FromConsumer, { type: T }>> {
    const wait = async () => {
      for (;;) {
        const got = this.#inbox.shift();
        if (got?.type === 'error') throw new Error(`consumer: ${got.error}`);
        if (got?.type === type) return got as Extract<FromConsumer, { type: T }>;
        if (got) throw new Error(`consumer sent ${got.type}, expected ${type}`);
        if (this.#exit) throw new Error(`${this.#exit} before it sent ${type}`);
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    };
    return withDeadline(wait(), ms, `consumer ${type}`);
  }

  /**
   * Resolves once it has exited. One still running is cut off from IPC (it exits when
   * it notices) and SIGKILLed after `ms`.
   */
  async reap(ms: number): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (child.connected && this.#exit === undefined) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    await exited;
    clearTimeout(timer);
  }
}

/** `count` submit-and-await jobs with inputs from `first`, `lanes` in flight; checks each. */
async function submitAndAwait(producer: Producer, first: number, count: number, lanes: number) {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const n = first + next++;
      const result = await producer.run(n);
      if (result !== n + 1) throw new Error(`job ${n} returned ${result}, expected ${n + 1}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
}

const ownCpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

async function figure(job: FigureJob): Promise<FigureResult> {
  const { workload } = job;
  const consumer = new ConsumerProcess(job);
  let producer: Producer | undefined;
  let probe: Awaited<ReturnType<typeof openCpuProbe>> | undefined;
  try {
    producer = await withDeadline(producerFor(job.system, job.target), 20_000, 'producer start');
    probe = await withDeadline(
      openCpuProbe(serversOf(job.target.redis)),
      10_000,
      'redis connection',
    );
    const redisCpu = probe.read;
    /** CPU times of the three processes now; the consumer's is `worker` when given. */
    const mark = async (worker?: number) => {
      const submitter = ownCpu();
      if (worker === undefined) {
        consumer.send({ type: 'cpu' });
        worker = (await consumer.next('cpu', 10_000)).cpu;
      }
      return { submitter, worker, redis: await withDeadline(redisCpu(), 10_000, 'INFO cpu') };
    };
    await consumer.next('ready', 20_000);
    await withDeadline(
      submitAndAwait(producer, 0, workload.warmup, workload.concurrency),
      60_000,
      'warm-up',
    );
    const first = workload.warmup;
    let seconds: number;
    let enqueuePerSecond: number | undefined;
    let before: Awaited<ReturnType<typeof mark>>;
    if (workload.name === 'drain') {
      consumer.send({ type: 'pause' });
      before = await mark((await consumer.next('paused', 20_000)).cpu);
      const inputs = Array.from({ length: workload.jobs }, (_, i) => first + i);
      const enqueueStart = performance.now();
      const { results } = await withDeadline(producer.enqueue(inputs), 60_000, 'bulk enqueue');
      enqueuePerSecond = workload.jobs / ((performance.now() - enqueueStart) / 1_000);
      const waiting = await withDeadline(producer.waiting(), 10_000, 'waiting count');
      if (waiting !== workload.jobs) {
        throw new Error(
          `${waiting} jobs waiting after the bulk enqueue, expected ${workload.jobs}`,
        );
      }
      const start = performance.now();
      consumer.send({ type: 'go' });
      const values = await withDeadline(results, 60_000, 'drain');
      seconds = (performance.now() - start) / 1_000;
      values.forEach((value, i) => {
        const n = inputs[i] as number;
        if (value !== n + 1) throw new Error(`job ${n} returned ${value}, expected ${n + 1}`);
      });
    } else {
      before = await mark();
      const start = performance.now();
      await withDeadline(
        submitAndAwait(producer, first, workload.jobs, workload.concurrency),
        60_000,
        'timed run',
      );
      seconds = (performance.now() - start) / 1_000;
    }
    const after = await mark();
    const perJob = (key: keyof typeof after) => (after[key] - before[key]) / workload.jobs;
    consumer.send({ type: 'close' });
    const { processed } = await consumer.next('closed', 20_000);
    const submitted = workload.warmup + workload.jobs;
    if (processed !== submitted) {
      throw new Error(`the consumer ran ${processed} jobs; ${submitted} were submitted`);
    }
    return {
      jobsPerSecond: workload.jobs / seconds,
      seconds,
      ...(enqueuePerSecond === undefined ? {} : { enqueuePerSecond }),
      processed,
      cpu: { submitter: perJob('submitter'), worker: perJob('worker'), redis: perJob('redis') },
    };
  } finally {
    probe?.close();
    await withDeadline(producer?.close() ?? Promise.resolve(), 5_000, 'producer close').catch(
      (error: unknown) => console.error(message(error)),
    );
    await consumer.reap(5_000);
  }
}

async function consume(job: FigureJob): Promise<void> {
  const send = (m: FromConsumer) =>
    new Promise<void>((resolve) => process.send?.(m, () => resolve()) ?? resolve());
  // The producer is gone: nobody will tell us to close.
  process.once('disconnect', () => process.exit(1));
  const consumer = await consumerFor(job.system, job.target);
  await consumer.start();
  let queue = Promise.resolve();
  process.on('message', (m: ToConsumer) => {
    queue = queue.then(async () => {
      try {
        if (m.type === 'pause') {
          await consumer.stop();
          await send({ type: 'paused', cpu: ownCpu() });
        } else if (m.type === 'cpu') {
          await send({ type: 'cpu', cpu: ownCpu() });
        } else if (m.type === 'go') {
          await consumer.start();
        } else {
          await consumer.close();
          await send({ type: 'closed', processed: consumer.processed });
          process.exit(0);
        }
      } catch (error) {
        await send({ type: 'error', error: message(error) });
      }
    });
  });
  await send({ type: 'ready' });
}

const [role, spec] = process.argv.slice(2);
const job = JSON.parse(spec ?? '{}') as FigureJob;
if (role === 'consumer') {
  consume(job).catch(async (error: unknown) => {
    process.send?.({ type: 'error', error: message(error) } satisfies FromConsumer);
    setTimeout(() => process.exit(1), 100);
  });
} else {
  const reply = (m: FigureReply) => {
    if (!process.send) {
      console.log(JSON.stringify(m));
      process.exit(m.ok ? 0 : 1);
    }
    process.send(m, () => process.exit(0));
  };
  figure(job).then(
    (result) => reply({ ok: true, result }),
    (error: unknown) => reply({ ok: false, error: message(error) }),
  );
}
