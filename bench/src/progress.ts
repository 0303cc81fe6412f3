/** A one-line progress bar on stderr, drawn only when stderr is a terminal. */

function clock(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1_000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export class Progress {
  readonly #total: number;
  readonly #started = performance.now();
  readonly #enabled = process.stderr.isTTY === true;
  #done = 0;

  constructor(total: number) {
    this.#total = total;
  }

  /** Shows the job about to run. */
  show(label: string): void {
    if (!this.#enabled) return;
    const width = 20;
    const filled = Math.round((this.#done / this.#total) * width);
    const elapsed = performance.now() - this.#started;
    const left = this.#done > 0 ? (elapsed / this.#done) * (this.#total - this.#done) : Number.NaN;
    const eta = Number.isNaN(left) ? '' : `, ~${clock(left)} left`;
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const line = `${bar} ${this.#done}/${this.#total}  ${label}  ${clock(elapsed)}${eta}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
  }

  tick(): void {
    this.#done++;
  }

  /** Prints a message above the bar. */
  note(message: string): void {
    if (this.#enabled) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${message}\n`);
  }

  end(): void {
    if (this.#enabled) process.stderr.write('\r\x1b[2K');
  }
}
