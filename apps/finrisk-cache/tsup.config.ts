import { defineConfig } from 'tsup';
import { base } from '../../tsup.base.mjs';

// The bin needs no declarations; its shebang is kept from the source.
export default defineConfig({ ...base, dts: false, entry: ['src/finrisk-cache.ts'] });
