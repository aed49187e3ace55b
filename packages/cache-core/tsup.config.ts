import { defineConfig } from 'tsup';
import { base } from '../../tsup.base.mjs';

export default defineConfig({
  ...base,
  entry: { index: 'src/index.ts', prometheus: 'src/metrics/prometheus-entry.ts', opentelemetry: 'src/metrics/opentelemetry-entry.ts' },
});
