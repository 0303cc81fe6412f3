/**
 * The server's `metricsPort`: an HTTP listener serving the server's stats and metrics in
 * the Prometheus text format at `/metrics`, written by `@taskpool/prometheus` (which needs
 * no prom-client for it). It lives in the supervisor, beside the counts it reads.
 *
 * @module
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectFamilies, PROMETHEUS_CONTENT_TYPE, toPrometheusText } from '@taskpool/prometheus';
import { InvalidOptionError } from '@taskpool/protocol';
import type { ServerLogger } from './logger.js';
import type { ServerStats } from './supervisor.js';

export class MetricsEndpoint {
  readonly #http: Server;
  /** Where it listens, as `http://host:port/metrics`. */
  readonly url: string;

  private constructor(http: Server, url: string) {
    this.#http = http;
    this.url = url;
  }

  /**
   * Listens on `host:port` (port 0: a free one). Rejects with `INVALID_OPTION` when it
   * cannot (the port is taken, the host is not this machine's).
   */
  static async open(
    port: number,
    host: string,
    stats: () => ServerStats,
    what: string,
    logger: ServerLogger,
  ): Promise<MetricsEndpoint> {
    const http = createServer((request, response) => {
      if (request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
        return;
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      collectFamilies({ server: { stats } }).then(
        (families) => {
          response.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
          response.end(request.method === 'HEAD' ? undefined : toPrometheusText(families));
        },
        (error: unknown) => {
          response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`);
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => {
        reject(
          new InvalidOptionError(
            `${what}: metricsPort: cannot listen on ${host}:${port}: ${error.message}`,
            { cause: error },
          ),
        );
      };
      http.once('error', failed);
      http.listen(port, host, () => {
        http.off('error', failed);
        resolve();
      });
    });
    // Later errors (an accept that fails for want of file descriptors) are said, not thrown.
    http.on('error', (error) => {
      logger.error({ err: error }, `metrics listener error: ${error.message}`);
    });
    const address = http.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return new MetricsEndpoint(http, `http://${shown}:${address.port}/metrics`);
  }

  /** Stops listening and ends the scrapers' connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }
}
