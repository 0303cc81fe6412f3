/**
 * A metric reader the tests collect from when they want to: the SDK's push readers run on
 * timers, and a test waits for events, not for timers.
 */
import { AggregationTemporality, MetricReader } from '@opentelemetry/sdk-metrics';

export class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
