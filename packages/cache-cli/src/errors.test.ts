import { readFileSync } from 'node:fs';
import { FinRiskCacheError } from '@finrisk/cache-core';
import { describe, expect, it } from 'vitest';
import { CliError, exitCodeFor } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { VERSION } from './version.js';

describe('exit statuses', () => {
  it('maps CLI errors by code', () => {
    expect(exitCodeFor(new CliError('E_NOT_FOUND', 'x'))).toBe(ExitCode.NOT_FOUND);
    expect(exitCodeFor(new CliError('E_BAD_INPUT', 'x'))).toBe(ExitCode.USAGE);
    expect(exitCodeFor(new CliError('E_FILE', 'x'))).toBe(ExitCode.USAGE);
    expect(exitCodeFor(new CliError('E_UNAVAILABLE', 'x'))).toBe(ExitCode.UNAVAILABLE);
  });

  it('maps cache errors: unreachable is 3, invalid input is 2, anything else is a bug', () => {
    expect(exitCodeFor(new FinRiskCacheError('E_REDIS_UNAVAILABLE', 'x'))).toBe(3);
    expect(exitCodeFor(new FinRiskCacheError('E_TIMEOUT', 'x'))).toBe(3);
    expect(exitCodeFor(new FinRiskCacheError('E_LOCAL_STORE', 'x'))).toBe(3);
    expect(exitCodeFor(new FinRiskCacheError('E_INVALID_CONFIG', 'x'))).toBe(2);
    expect(exitCodeFor(new FinRiskCacheError('E_INVALID_KEY', 'x'))).toBe(2);
    expect(exitCodeFor(new FinRiskCacheError('E_FILE', 'x'))).toBe(2);
    expect(exitCodeFor(new FinRiskCacheError('E_INTERNAL', 'x'))).toBe(ExitCode.INTERNAL);
    expect(exitCodeFor(new TypeError('boom'))).toBe(ExitCode.INTERNAL);
  });

  it('keeps the printed version equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
