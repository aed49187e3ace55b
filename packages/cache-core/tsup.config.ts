import { defineConfig } from 'tsup';
import { base } from '../../tsup.base.mjs';

export default defineConfig({ ...base, entry: ['src/index.ts'] });
