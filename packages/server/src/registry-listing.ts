/**
 * A server's entry in its `registry`: listed once the server listens, renewed by the
 * registry about every second from what the supervisor counts then, withdrawn first thing
 * on close (so that clients stop opening connections to a server that is going away).
 * A registry that cannot be reached is said once per outage, not every second, and the end
 * of an outage is logged.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RegistryHandle, ServerAnnouncement, ServiceRegistry } from '@taskpool/protocol';
import type { ServerLogger } from './logger.js';

/**
 * How long a close waits for the registry to withdraw the entry (redisRegistry's stop is
 * bounded by about three intervals): it expires anyway.
 */
const WITHDRAW_TIMEOUT_MS = 5_000;

/** What the supervisor says of itself at each renewal, but the id. */
export type ServerReport = Omit<ServerAnnouncement, 'id'>;

export class RegistryListing {
  /** Unique to this run of this server. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #handle: RegistryHandle;
  readonly #logger: ServerLogger;
  readonly #description: string;
  /** The last failure said, so that a registry down for a minute is said once. */
  #lastError: string | undefined;
  /** A failure came since the registry last asked for the entry (its renewal failed). */
  #failedSinceAsked = false;
  #withdrawn: Promise<void> | undefined;

  constructor(registry: ServiceRegistry, report: () => ServerReport, logger: ServerLogger) {
    this.#logger = logger;
    this.#description = registry.description;
    this.#handle = registry.register(
      () => this.#asked(report),
      (error) => this.#failed(error),
    );
  }

  /**
   * The entry, for a renewal. The registry asks once per renewal: asked again with no
   * failure since, the renewal before succeeded, and an outage said is over.
   */
  #asked(report: () => ServerReport): ServerAnnouncement {
    if (this.#lastError !== undefined && !this.#failedSinceAsked) {
      this.#lastError = undefined;
      this.#logger.info(
        { registry: this.#description },
        `this server's entry in ${this.#description} is renewed again`,
      );
    }
    this.#failedSinceAsked = false;
    return { id: this.id, ...report() };
  }

  #failed(error: unknown): void {
    this.#failedSinceAsked = true;
    const message = error instanceof Error ? error.message : String(error);
    if (message === this.#lastError) return;
    this.#lastError = message;
    const doing = this.#withdrawn === undefined ? 'renew' : 'withdraw';
    this.#logger.warn(
      { err: error, registry: this.#description },
      `could not ${doing} this server's entry in ${this.#description}: ${message}`,
    );
  }

  /** Withdraws the entry; resolves when the registry has, or after a short deadline. */
  withdraw(): Promise<void> {
    this.#withdrawn ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WITHDRAW_TIMEOUT_MS);
      timer.unref();
      this.#handle.stop().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(timer);
          this.#failed(error);
          resolve();
        },
      );
    });
    return this.#withdrawn;
  }
}
