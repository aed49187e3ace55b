#!/usr/bin/env node
// The workspace's `finrisk-cache` (`pnpm finrisk-cache`, the tests, the bench): the very bin that
// @finrisk/cache-cli publishes, found through its package.json, so that there is one bin to test.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const manifest = createRequire(import.meta.url).resolve('@finrisk/cache-cli/package.json');
const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
await import(pathToFileURL(join(dirname(manifest), bin['finrisk-cache']!)).href);
