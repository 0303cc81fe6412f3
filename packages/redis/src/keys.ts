/**
 * Every Redis key and channel name of a queue, built in this one file. Lua scripts never
 * build names from scratch: they receive these in KEYS, and only the names they cannot know
 * in advance (the record of an id read inside the script) are made by appending the id to
 * {@link QueueKeys.jobPrefix}, passed in ARGV (see each script's header).
 *
 * A queue named `mail` under the prefix `taskpool` owns everything that starts with
 * `taskpool:{mail}:`. The braces are a Redis Cluster hash tag (BullMQ's rule): only the
 * queue's name decides the slot, so every key and channel of one queue is in one slot
 * (what its scripts need), and different queues spread over the cluster. That is why the
 * prefix and the name may not contain `{` or `}`.
 *
 * @module
 */

/** The names of one queue's keys and channels. */
export interface QueueKeys {
  /** `<prefix>:{<name>}:`, the start of every key and channel of this queue. */
  readonly base: string;
  /** A glob matching every key of this queue (for SCAN). */
  readonly pattern: string;
  /** The list of queued jobs (ids, or whole jobs in simple mode) of one priority. */
  wait(priority: string): string;
  /** The zset whose one member wakes reliable workers when a priority has work. */
  marker(priority: string): string;
  /** The hash holding one job's data, state and outcome. */
  job(id: string): string;
  /** What {@link job} puts before an id; scripts append ids they read to it. */
  readonly jobPrefix: string;
  /** The list of ids one reliable worker has taken. */
  processing(workerId: string): string;
  /** The zset of live reliable workers, scored by the time their lease runs out. */
  readonly workers: string;
  /** The zset of jobs waiting out a retry backoff, scored by when they are due. */
  readonly delayed: string;
  /** The zset of failed job ids kept for inspection, scored by when they failed. */
  readonly failed: string;
  /** The channel a submitter listens on for its jobs' outcomes. */
  done(clientId: string): string;
  /** What {@link done} puts before a client id; scripts append the id a record names. */
  readonly donePrefix: string;
  /** The channel on which running jobs are cancelled. */
  readonly cancel: string;
  /**
   * The channel on which a subscriber checks that its subscriptions receive (Redis
   * Cluster, after the cluster's shape changed).
   */
  probe(subscriberId: string): string;
}

const GLOB_SPECIALS = /[*?[\]\\]/g;

/**
 * Builds the names for queue `name` under `prefix`. Neither may contain `{` or `}`
 * (`createQueue` refuses them): the name must be the whole hash tag.
 */
export function queueKeys(prefix: string, name: string): QueueKeys {
  const base = `${prefix}:{${name}}:`;
  const jobPrefix = `${base}job:`;
  const processingPrefix = `${base}processing:`;
  const donePrefix = `${base}done:`;
  return {
    base,
    pattern: `${base.replace(GLOB_SPECIALS, '\\$&')}*`,
    wait: (priority) => `${base}wait:${priority}`,
    marker: (priority) => `${base}marker:${priority}`,
    job: (id) => `${jobPrefix}${id}`,
    jobPrefix,
    processing: (workerId) => `${processingPrefix}${workerId}`,
    workers: `${base}workers`,
    delayed: `${base}delayed`,
    failed: `${base}failed`,
    done: (clientId) => `${donePrefix}${clientId}`,
    donePrefix,
    cancel: `${base}cancel`,
    probe: (subscriberId) => `${base}probe:${subscriberId}`,
  };
}
