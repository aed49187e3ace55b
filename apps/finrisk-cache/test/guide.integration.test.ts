import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareWorkspace, readGuideExamples, runLine } from '../scripts/guide-examples.mjs';

// Every example of the guide (examples/guide-examples.sh), run as written through `sh -c`, with
// the built `finrisk-cache` on the PATH in place of `python scripts/cache_cli.py`.

const examples = readGuideExamples();
let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await server?.stop();
});

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

describe('the guide examples against Redis', () => {
  const ws = prepareWorkspace();
  const prefix = uniquePrefix('guide');
  const outputs = new Map<string, { code: number | null; stdout: string; stderr: string }>();

  it('holds every command line of the guide', () => {
    expect(examples).toHaveLength(24);
    expect(examples).toContain(`finrisk-cache cache-pred CUST001 credit '{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}'`);
    expect(examples).toContain('finrisk-cache stats | grep "Hit Rate"');
  });

  it('runs each one, in order, with exit status 0', async () => {
    // A 5 s command deadline: with the default 250 ms a command on a loaded machine can fail with E_TIMEOUT.
    const env = cleanEnv({
      HOME: ws.root, REDIS_URL: server.url, CACHE_KEY_PREFIX: prefix, CACHE_LOCAL_PATH: join(ws.root, 'local.db'), CACHE_COMMAND_TIMEOUT_MS: '5000',
    });
    for (const line of examples) {
      const result = await runLine(line, { cwd: ws.cwd, bin: ws.bin, env });
      expect(result.code, `${line}\n${result.stderr}`).toBe(0);
      expect(result.stderr, line).toBe('');
      if (!outputs.has(line)) outputs.set(line, result);
    }
  }, 180_000);

  it('prints what the guide promises', () => {
    expect(JSON.parse(outputs.get('finrisk-cache get-pred CUST001 credit')!.stdout)).toEqual({ risk_score: 0.75, decision: 'approve', confidence: 0.92 });
    expect(JSON.parse(outputs.get('finrisk-cache get-pred CUST001 fraud')!.stdout)).toEqual({ fraud_probability: 0.15, risk_level: 'low', confidence: 0.88 });
    expect(JSON.parse(outputs.get('finrisk-cache get-feat CUST001')!.stdout)).toMatchObject({ age: 35, credit_score: 720 });
    expect(outputs.get('finrisk-cache get-df customer_data')!.stdout).toContain('customer_data: 8 rows x 8 columns');
    expect(outputs.get('finrisk-cache stats | grep "Hit Rate"')!.stdout).toMatch(/^Hit Rate\s+\d+\.\d\d%\n$/);
    expect(outputs.get('finrisk-cache check')!.stdout).toMatch(/^OK {2}Redis at /);
    expect(outputs.get('finrisk-cache config')!.stdout).toMatch(/^REDIS_URL\s+redis:\/\/127\.0\.0\.1:\d+\s+environment$/m);
    expect(readFileSync(join(ws.cwd, 'customers_export.csv'), 'utf8')).toBe(readFileSync(join(ws.cwd, 'data', 'customers.csv'), 'utf8'));
    expect(server.cli('EXISTS', `${prefix}:prediction:CUST001:credit`)).toBe('0'); // the guide ends with clear-pred
  });
});

describe('the guide examples without Redis', () => {
  it('run on the embedded store; only check fails, with exit 3', async () => {
    const ws = prepareWorkspace();
    const port = await freePort();
    const env = cleanEnv({ HOME: ws.root, REDIS_URL: `redis://127.0.0.1:${port}`, CACHE_LOCAL_PATH: join(ws.root, 'local.db') });
    // The lines checked on their own below are in the guide (else their checks would never run).
    expect(examples).toContain('finrisk-cache check');
    expect(examples).toContain('finrisk-cache get-pred CUST001 credit');
    expect(examples.filter((line) => line.startsWith('finrisk-cache cache-'))).toHaveLength(5);
    for (const line of examples) {
      const result = await runLine(line, { cwd: ws.cwd, bin: ws.bin, env });
      if (line === 'finrisk-cache check') {
        expect(result.code).toBe(3);
        expect(result.stderr).toContain('is not reachable');
      } else {
        expect(result.code, `${line}\n${result.stderr}`).toBe(0);
      }
      if (line === 'finrisk-cache get-pred CUST001 credit') expect(JSON.parse(result.stdout)).toMatchObject({ risk_score: 0.75 });
      if (line.startsWith('finrisk-cache cache-')) {
        expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining('using the embedded store at')]);
      }
    }
  }, 180_000);
});
