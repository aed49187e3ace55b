export { registerPrometheusMetrics } from './prometheus.js';
export type { PrometheusMetricsOptions } from './prometheus.js';
