/**
 * The server's signal handlers: SIGTERM and SIGINT close gracefully, SIGHUP restarts the
 * workers onto fresh code.
 *
 * @module
 */

/** Installs the handlers; returns the function that removes them. */
export function installSignals(handlers: { close: () => void; restart: () => void }): () => void {
  const table: [NodeJS.Signals, () => void][] = [
    ['SIGTERM', handlers.close],
    ['SIGINT', handlers.close],
    ['SIGHUP', handlers.restart],
  ];
  for (const [signal, handler] of table) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of table) process.off(signal, handler);
  };
}
