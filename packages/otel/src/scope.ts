/**
 * The adapter's instrumentation scope: the tracer and meter every part of it records with,
 * from the providers given, or the global ones.
 *
 * @module
 */
import {
  type Meter,
  type MeterProvider,
  metrics,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

/** The instrumentation scope's name this adapter gives its tracer and meter. */
export const INSTRUMENTATION_SCOPE = '@taskpool/otel';

/** The adapter's meter, from `provider` or the global meter provider. */
export function meterOf(provider: MeterProvider | undefined): Meter {
  return (provider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_SCOPE);
}

/** The adapter's tracer, from `provider` or the global tracer provider. */
export function tracerOf(provider: TracerProvider | undefined): Tracer {
  return (provider ?? trace.getTracerProvider()).getTracer(INSTRUMENTATION_SCOPE);
}
