/**
 * What the bench stops when it is interrupted: servers it runs in its own process group
 * (the queue bench's private Redis and Redis Cluster). The run stops them in a `finally`,
 * which a signal never reaches, so main.ts's SIGINT and SIGTERM handlers call
 * {@link runTeardowns} before exiting: the servers are reaped and their directories
 * removed. (The bench children run in process groups of their own, which the runner kills.)
 */

const teardowns = new Set<() => Promise<void>>();

/**
 * Has `stop` run if the bench is interrupted from now until the returned function is
 * called (by the run, just before it stops the same thing itself).
 */
export function stopOnInterrupt(stop: () => Promise<void>): () => void {
  teardowns.add(stop);
  return () => {
    teardowns.delete(stop);
  };
}

/** Runs every registered stop at once; resolves when all have settled, or after `ms`. */
export async function runTeardowns(ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.allSettled([...teardowns].map((stop) => stop())), late]);
  clearTimeout(timer);
}
