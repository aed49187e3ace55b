export { registerOpenTelemetryMetrics } from './opentelemetry.js';
export type { OpenTelemetryMetricsOptions } from './opentelemetry.js';
