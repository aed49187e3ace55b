import { defineConfig } from 'tsup';
import { base } from '../../tsup.base.mjs';

// An app, not a library: no declarations.
export default defineConfig({ ...base, dts: false, entry: ['src/server.ts', 'src/app.ts'] });
