import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, topologies, uniquePrefix, type RedisDeployment } from '@finrisk/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lines, runBinary, workspace, type BinaryResult } from './run-binary.js';

/** Seconds of `59m 58s` / `1h` / `30m` (what formatTtl prints). */
function parseTtlText(text: string): number {
  const units: Record<string, number> = { d: 86400, h: 3600, m: 60, s: 1 };
  return text.trim().split(/\s+/).reduce((total, part) => total + Number(part.slice(0, -1)) * units[part.at(-1)!]!, 0);
}

/** Whole seconds from `from` to `to`, rounded up: a TTL read then may be that much lower, plus one for Redis's rounding down. */
function secondsSince(from: number, to: number): number {
  return Math.ceil((to - from) / 1000) + 1;
}

/** Checks a TTL in seconds read after a write that began at `from`: at most `ttl`, and lower by no more than the time since. */
function expectTtlSince(seconds: number, ttl: number, from: number): void {
  expect(seconds).toBeLessThanOrEqual(ttl);
  expect(seconds).toBeGreaterThanOrEqual(ttl - secondsSince(from, Date.now()));
}

// The built `finrisk-cache` as a subprocess, against a throwaway redis-server and a throwaway
// 6-node cluster: every command on both.
describe.each(topologies)('finrisk-cache on Redis ($name)', (topology) => {
  let deployment: RedisDeployment;
  let closedPort: number;
  let prefix: string;
  const ws = workspace('cli');
  const localPath = join(ws.cwd, 'local', 'cache.db');

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return ws.env({ ...deployment.env, CACHE_KEY_PREFIX: prefix, CACHE_LOCAL_PATH: localPath, ...extra });
  }
  const cli = (args: string[], extra: Record<string, string> = {}, cwd = ws.cwd): Promise<BinaryResult> =>
    runBinary(args, { cwd, env: env(extra) });
  const json = (result: BinaryResult): Record<string, unknown> => JSON.parse(result.stdout) as Record<string, unknown>;
  // A short connect timeout: a refused port is known at once, and the suite runs many of these.
  const closed = () => ({ REDIS_URL: `redis://127.0.0.1:${closedPort}/0`, CACHE_CONNECT_TIMEOUT_MS: '300' });

  beforeAll(async () => {
    deployment = await topology.start({ args: ['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru'] });
    closedPort = await freePort();
    prefix = uniquePrefix('bin');
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  describe('check, config, stats', () => {
    it('check says Redis answered and exits 0', async () => {
      const result = await cli(['check']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^OK {2}Redis at ${deployment.address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(/0)? answered in \\d`));
      const data = json(await cli(['check', '--json']));
      expect(data).toMatchObject({ ok: true, backend: 'redis' });
    });

    it('config shows each setting with its source, and masks the password', async () => {
      writeFileSync(join(ws.cwd, '.env'), 'CACHE_FEATURE_TTL=900\nREDIS_PASSWORD=hunter2\n');
      try {
        const result = await cli(['config', '--db', '3'], { CACHE_PREDICTION_TTL: '120' });
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/^REDIS_DB\s+3\s+flag$/m);
        expect(result.stdout).toMatch(/^CACHE_PREDICTION_TTL\s+120\s+environment$/m);
        expect(result.stdout).toMatch(/^CACHE_FEATURE_TTL\s+900\s+\.env$/m);
        expect(result.stdout).toMatch(/^CACHE_MODEL_TTL\s+86400\s+default$/m);
        expect(result.stdout).toMatch(/^REDIS_PASSWORD\s+\*\*\*\s+\.env$/m);
        expect(result.stdout).not.toContain('hunter2');
        expect(result.stdout).toContain(`.env file: ${join(ws.cwd, '.env')}`);
        const data = json(await cli(['config', '--json']));
        expect(JSON.stringify(data)).not.toContain('hunter2');
        // REDIS_URL, or REDIS_CLUSTER_NODES on a cluster
        const [variable] = Object.keys(deployment.env);
        expect(data.settings).toContainEqual(expect.objectContaining({ variable, source: 'environment' }));
      } finally {
        writeFileSync(join(ws.cwd, '.env'), '');
      }
    });

    it('config names an invalid variable and exits 2', async () => {
      const result = await cli(['config'], { CACHE_BACKEND: 'redis-cluster' });
      expect(result.code).toBe(2);
      expect(lines(result.stderr)).toEqual([expect.stringContaining('CACHE_BACKEND="redis-cluster" is invalid')]);
    });

    it('stats prints Hit Rate, maxmemory and its policy, evicted and expired keys', async () => {
      const result = await cli(['stats']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Hit Rate\s+\d+\.\d\d%/m);
      // On a cluster the figures are totals over the masters.
      const masters = deployment.masters().length;
      expect(result.stdout).toMatch(new RegExp(`^Max Memory\\s+${100 * masters}\\.00MB \\(`, 'm'));
      expect(result.stdout).toMatch(/^Eviction Policy\s+allkeys-lru$/m);
      expect(result.stdout).toMatch(/^Evicted Keys\s+0$/m);
      expect(result.stdout).toMatch(/^Expired Keys\s+\d+$/m);
      const data = json(await cli(['stats', '--json']));
      expect(data).toMatchObject({ status: 'healthy', backend: 'redis', maxMemoryBytes: 100 * 1024 * 1024 * masters, maxMemoryPolicy: 'allkeys-lru', fallback: false });
      expect(typeof data.hitRate).toBe('number');
    });

    it('stats --keys counts keys and bytes per kind', async () => {
      expect((await cli(['cache-feat', 'STATS1', '{"a": 1}'])).code).toBe(0);
      expect((await cli(['cache-feat', 'STATS2', '{"a": 2}'])).code).toBe(0);
      const result = await cli(['stats', '--keys']);
      expect(result.stdout).toMatch(/^feature\s+2\s+\d+(\.\d+)?(B|KB)$/m);
      const data = json(await cli(['stats', '--keys', '--json'])) as { byKind: { kind: string; keys: number; bytes: number }[] };
      const feature = data.byKind.find((k) => k.kind === 'feature');
      expect(feature?.keys).toBe(2);
      expect(feature?.bytes).toBeGreaterThan(0);
      await cli(['clear-feat']);
    });
  });

  describe('predictions and features', () => {
    // When each entry's write began (ms), to bound the TTL that inspect may show.
    const written: { credit?: number; fraud?: number; feature?: number } = {};
    it('cache-pred then get-pred round-trips the JSON, with the prediction TTL', async () => {
      written.credit = Date.now();
      const stored = await cli(['cache-pred', 'CUST001', 'credit', '{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}']);
      expect(stored.code).toBe(0);
      expect(stored.stdout.trim()).toBe('Cached credit prediction for CUST001 (expires in 1h)');
      const key = `${prefix}:prediction:CUST001:credit`;
      expect(deployment.cli('EXISTS', key)).toBe('1');
      expectTtlSince(Number(deployment.cli('TTL', key)), 3600, written.credit!);
      const read = await cli(['get-pred', 'CUST001', 'credit']);
      expect(read.code).toBe(0);
      expect(JSON.parse(read.stdout)).toEqual({ risk_score: 0.75, decision: 'approve', confidence: 0.92 });
      const data = json(await cli(['get-pred', 'CUST001', 'credit', '--json']));
      expect(data).toMatchObject({ found: true, customer: 'CUST001', model: 'credit', prediction: { risk_score: 0.75 } });
    });

    // 600 s, not less: inspect reads this entry two tests later, and a slow machine must not find it expired.
    it('--ttl sets the time to live', async () => {
      written.fraud = Date.now();
      expect((await cli(['cache-pred', 'CUST001', 'fraud', '{"fraud_probability": 0.15}', '--ttl', '600'])).code).toBe(0);
      expectTtlSince(Number(deployment.cli('TTL', `${prefix}:prediction:CUST001:fraud`)), 600, written.fraud);
    });

    it('get-pred of nothing exits 1 with one line on stderr', async () => {
      const result = await cli(['get-pred', 'NOBODY', 'credit']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr)).toEqual(['finrisk-cache: no cached credit prediction for NOBODY (never cached, expired or invalidated)']);
      expect(json(await cli(['get-pred', 'NOBODY', 'credit', '--json']))).toMatchObject({ found: false, prediction: null });
    });

    it('cache-feat then get-feat round-trips, with the feature TTL', async () => {
      written.feature = Date.now();
      const stored = await cli(['cache-feat', 'CUST001', '{"age": 35, "income": 75000, "credit_score": 720, "employment_years": 8}']);
      expect(stored.code).toBe(0);
      expectTtlSince(Number(deployment.cli('TTL', `${prefix}:feature:CUST001`)), 1800, written.feature!);
      const read = await cli(['get-feat', 'CUST001']);
      expect(JSON.parse(read.stdout)).toEqual({ age: 35, income: 75000, credit_score: 720, employment_years: 8 });
      expect((await cli(['get-feat', 'NOBODY'])).code).toBe(1);
    });

    it("inspect lists a customer's entries with their TTLs", async () => {
      const result = await cli(['inspect', 'CUST001']);
      const after = Date.now();
      expect(result.code).toBe(0);
      // The TTL printed is whatever is left when inspect runs: the full TTL on a fast machine
      // (same second as the write), less on a slow one. What holds at any speed: it is at most
      // the TTL written, and at least that minus the seconds from the write to inspect's end.
      const row = (pattern: RegExp) => {
        const match = pattern.exec(result.stdout);
        expect(match, `no line matching ${pattern} in:\n${result.stdout}`).not.toBeNull();
        return parseTtlText(match![1]!);
      };
      const credit = row(/^prediction\s+credit\s+((?:\d+[hms] ?)+?)\s{2,}\S+Z\s+fresh\s+/m);
      expect(credit).toBeLessThanOrEqual(3600);
      expect(credit).toBeGreaterThanOrEqual(3600 - secondsSince(written.credit!, after));
      const fraud = row(/^prediction\s+fraud\s+((?:\d+[hms] ?)+?)\s{2,}/m);
      expect(fraud).toBeLessThanOrEqual(600);
      expect(fraud).toBeGreaterThanOrEqual(600 - secondsSince(written.fraud!, after));
      const feature = row(/^feature\s+((?:\d+[hms] ?)+?)\s{2,}/m);
      expect(feature).toBeLessThanOrEqual(1800);
      expect(feature).toBeGreaterThanOrEqual(1800 - secondsSince(written.feature!, after));
      const data = json(await cli(['inspect', 'CUST001', '--json'])) as { entries: { kind: string; model: string | null }[] };
      expect(data.entries.map((e) => `${e.kind}:${e.model ?? ''}`)).toEqual(['prediction:credit', 'prediction:fraud', 'feature:']);
      expect((await cli(['inspect', 'NOBODY'])).code).toBe(1);
    });
  });

  describe('clear commands', () => {
    it('clear-pred --dry-run counts, clear-pred --customer deletes only that customer', async () => {
      await cli(['cache-pred', 'CUST002', 'credit', '{"risk_score": 0.1}']);
      const dry = await cli(['clear-pred', '--customer', 'CUST001', '--dry-run']);
      expect(dry.stdout.trim()).toBe('Would delete 2 keys (predictions of CUST001); nothing was deleted (--dry-run)');
      expect(deployment.cli('EXISTS', `${prefix}:prediction:CUST001:credit`)).toBe('1');
      const cleared = json(await cli(['clear-pred', '--customer', 'CUST001', '--json']));
      expect(cleared).toMatchObject({ ok: true, dryRun: false, deleted: 2 });
      expect(deployment.cli('EXISTS', `${prefix}:prediction:CUST001:credit`)).toBe('0');
      expect(deployment.cli('EXISTS', `${prefix}:prediction:CUST002:credit`)).toBe('1');
      expect((await cli(['clear-pred'])).stdout.trim()).toBe('Deleted 1 key (predictions of every customer)');
      expect(deployment.cli('EXISTS', `${prefix}:prediction:CUST002:credit`)).toBe('0');
    });

    it('clear-model deletes one model or every model', async () => {
      deployment.cli('SET', `${prefix}:model:credit_risk:v1`, 'x');
      deployment.cli('SET', `${prefix}:model:credit_risk:v2`, 'x');
      deployment.cli('SET', `${prefix}:model:fraud:v1`, 'x');
      expect(json(await cli(['clear-model', '--model', 'credit_risk', '--dry-run', '--json']))).toMatchObject({ dryRun: true, wouldDelete: 2 });
      expect((await cli(['clear-model', '--model', 'credit_risk'])).stdout.trim()).toBe('Deleted 2 keys (artifacts of model credit_risk)');
      expect(deployment.cli('EXISTS', `${prefix}:model:fraud:v1`)).toBe('1');
      expect((await cli(['clear-model'])).stdout.trim()).toBe('Deleted 1 key (artifacts of every model)');
    });

    it('clear-feat deletes one customer or every customer', async () => {
      await cli(['cache-feat', 'F1', '{"a": 1}']);
      await cli(['cache-feat', 'F2', '{"a": 2}']);
      expect((await cli(['clear-feat', '--customer', 'F1', '--dry-run'])).stdout).toContain('Would delete 1 key');
      expect((await cli(['clear-feat', '--customer', 'F1'])).stdout.trim()).toBe('Deleted 1 key (features of F1)');
      expect((await cli(['get-feat', 'F2'])).code).toBe(0);
      // F2, and whatever features the tests before this one left: the count is the server's.
      const left = deployment.keys(`${prefix}:feature:*`).length;
      expect(left).toBeGreaterThanOrEqual(1);
      expect((await cli(['clear-feat'])).stdout.trim()).toBe(`Deleted ${left} key${left === 1 ? '' : 's'} (features of every customer)`);
      expect((await cli(['get-feat', 'F2'])).code).toBe(1);
    });
  });

  describe('data frames', () => {
    it('cache-df, get-df preview, list-df and info-df', async () => {
      const stored = await cli(['cache-df', 'customer_data', 'data/customers.csv']);
      expect(stored.code).toBe(0);
      expect(stored.stdout).toMatch(/^Cached customer_data: 8 rows x 8 columns from data\/customers\.csv \(.*\), expires in 2h$/m);
      const preview = await cli(['get-df', 'customer_data']);
      expect(preview.code).toBe(0);
      expect(preview.stdout).toContain('customer_data: 8 rows x 8 columns');
      expect(preview.stdout).toMatch(/^credit_score\s+int32$/m);
      expect(preview.stdout).toMatch(/^CUST001\s+35\s+75000\s+720\s+/m);
      const limited = json(await cli(['get-df', 'customer_data', '--rows', '2', '--json'])) as { shape: unknown; preview: unknown[] };
      expect(limited.shape).toEqual({ rows: 8, columns: 8 });
      expect(limited.preview).toHaveLength(2);
      const listed = await cli(['list-df']);
      expect(listed.stdout).toMatch(/^customer_data\s+8\s+8\s+/m);
      const info = json(await cli(['info-df', 'customer_data', '--json'])) as { rows: number; columns: { name: string; type: string }[] };
      expect(info.rows).toBe(8);
      expect(info.columns.map((c) => c.name)).toContain('credit_score');
    });

    it('cache-df --ttl sets the expiry', async () => {
      const start = Date.now();
      expect((await cli(['cache-df', 'transaction_data', 'data/transactions.csv', '--ttl', '3600'])).code).toBe(0);
      const info = json(await cli(['info-df', 'transaction_data', '--json'])) as { expiresAt: string };
      const left = Date.parse(info.expiresAt) - Date.now();
      // Lower than the TTL by no more than the time since the write began, however slow the machine.
      expect(left).toBeGreaterThanOrEqual(3600 * 1000 - (Date.now() - start));
      expect(left).toBeLessThanOrEqual(3600 * 1000);
    });

    it('get-df --output writes csv that equals the input, and json and arrow by extension', async () => {
      const csv = await cli(['get-df', 'customer_data', '--output', 'customers_export.csv']);
      expect(csv.code).toBe(0);
      expect(readFileSync(join(ws.cwd, 'customers_export.csv'), 'utf8')).toBe(readFileSync(join(ws.cwd, 'data/customers.csv'), 'utf8'));
      expect((await cli(['get-df', 'customer_data', '--output', 'export.json'])).code).toBe(0);
      const rows = JSON.parse(readFileSync(join(ws.cwd, 'export.json'), 'utf8')) as unknown;
      expect(JSON.stringify(rows)).toContain('CUST008');
      expect((await cli(['get-df', 'customer_data', '--output', 'export.arrow'])).code).toBe(0);
      expect((await cli(['cache-df', 'from_arrow', 'export.arrow'])).stdout).toContain('8 rows x 8 columns');
    });

    it('a missing table exits 1; an unknown output extension exits 2', async () => {
      expect((await cli(['get-df', 'nothing_here'])).code).toBe(1);
      expect((await cli(['info-df', 'nothing_here'])).code).toBe(1);
      const bad = await cli(['get-df', 'customer_data', '--output', 'out.xlsx']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('cannot tell the format of out.xlsx');
    });
  });



  describe('--json on every command', () => {
    it.each([
      ['check'], ['config'], ['stats'], ['stats', '--keys'], ['monitor', '--once', '--min-hit-rate', '0'],
      ['cache-pred', 'J1', 'credit', '{"a": 1}'], ['get-pred', 'J1', 'credit'], ['cache-feat', 'J1', '{"a": 1}'], ['get-feat', 'J1'],
      ['inspect', 'J1'], ['cache-df', 'json_df', 'data/customers.csv'], ['get-df', 'json_df'], ['list-df'], ['info-df', 'json_df'],
      ['clear-model', '--dry-run'], ['clear-pred', '--customer', 'J1'], ['clear-feat', '--customer', 'J1'],
    ])('%s prints one JSON document', async (...args) => {
      const result = await cli([...args, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(lines(result.stdout)).toHaveLength(1);
      expect(() => JSON.parse(result.stdout)).not.toThrow();
    });
  });

  // Nothing in these depends on the topology: they run once, on one server.
  if (topology.name === 'single') {
    describe('help', () => {
      it('--help lists every command and the exit statuses', async () => {
        const result = await cli(['--help']);
        expect(result.code).toBe(0);
        for (const command of [
          'check', 'config', 'stats', 'monitor', 'dashboard', 'cache-pred', 'get-pred', 'cache-feat', 'get-feat', 'inspect',
          'cache-df', 'get-df', 'list-df', 'info-df', 'clear-model', 'clear-pred', 'clear-feat', 'help',
        ]) {
          expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
        }
        expect(result.stdout).toContain('Exit statuses');
        expect(result.stdout).toMatch(/^ {2}3 {2}backend unavailable/m);
      });

      it('help COMMAND shows its usage and examples', async () => {
        const result = await cli(['help', 'cache-pred']);
        expect(result.code).toBe(0);
        expect(result.stdout).toContain('Usage: finrisk-cache cache-pred [options] <CUSTOMER> <MODEL> <JSON>');
        expect(result.stdout).toContain(`finrisk-cache cache-pred CUST001 credit '{"risk_score": 0.75`);
      });

      it('--version prints the version', async () => {
        expect((await cli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      });

      it('no command prints the help on stderr and exits 2', async () => {
        const result = await cli([]);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr).toContain('Usage: finrisk-cache');
      });
    });

    describe('bad input', () => {
      it('bad JSON names the position', async () => {
        const result = await cli(['cache-pred', 'CUST001', 'credit', '{"risk_score": 0.75, "decision": approve}']);
        expect(result.code).toBe(2);
        expect(lines(result.stderr)).toHaveLength(1);
        expect(result.stderr).toContain('at line 1, column 34 (position 33)');
      });

      it('a missing file names the path', async () => {
        const result = await cli(['cache-df', 'customer_data', 'data/missing.csv']);
        expect(result.code).toBe(2);
        expect(lines(result.stderr)).toEqual([`finrisk-cache: file not found: data/missing.csv (${join(ws.cwd, 'data/missing.csv')})`]);
      });

      it('an unknown command suggests the closest one', async () => {
        const result = await cli(['get-perd', 'CUST001', 'credit']);
        expect(result.code).toBe(2);
        expect(lines(result.stderr)).toEqual([
          "finrisk-cache: unknown command 'get-perd'; did you mean 'get-pred'? Run finrisk-cache --help for the list of commands.",
        ]);
      });

      it('a bad --port, --backend or --ttl is bad usage', async () => {
        const port = await cli(['check', '--port', 'abc']);
        expect(port.code).toBe(2);
        expect(lines(port.stderr)).toEqual([expect.stringContaining('--port must be a whole number from 1 to 65535')]);
        expect((await cli(['check', '--port', '70000'])).code).toBe(2);
        expect((await cli(['stats', '--backend', 'mongo'])).code).toBe(2);
        expect((await cli(['cache-feat', 'C', '{}', '--ttl', '-5'])).code).toBe(2);
      });

      it('a missing argument or an extra one is bad usage', async () => {
        expect((await cli(['get-pred', 'CUST001'])).stderr).toContain("missing required argument 'MODEL'");
        expect((await cli(['get-feat', 'CUST001', 'extra'])).code).toBe(2);
      });

      it('an invalid id is bad input, not a crash', async () => {
        const result = await cli(['get-feat', 'bad\u0001id']);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain('control character');
      });

      it('errors print no stack trace unless --debug', async () => {
        const plain = await cli(['get-feat', 'C', '--backend', 'redis'], closed());
        expect(plain.code).toBe(3);
        expect(lines(plain.stderr)).toHaveLength(1);
        const debug = await cli(['get-feat', 'C', '--backend', 'redis', '--debug'], closed());
        expect(debug.stderr).toMatch(/\n\s+at /);
      });
    });

    describe('Redis unreachable', () => {
      it('check reports Redis unreachable and exits 3', async () => {
        const result = await cli(['check'], closed());
        expect(result.code).toBe(3);
        expect(result.stdout.trim()).toBe(`FAIL  Redis at redis://127.0.0.1:${closedPort}/0 is not reachable`);
        expect(lines(result.stderr)).toEqual([expect.stringMatching(/is not reachable \(connect ECONNREFUSED .*\); the other commands fall back to the embedded store at /)]);
        expect(json(await cli(['check', '--json'], closed()))).toMatchObject({ ok: false, code: 'E_REDIS_UNAVAILABLE', fallback: { backend: 'local', location: localPath } });
      });

      it('with --backend redis the commands exit 3', async () => {
        const result = await cli(['cache-pred', 'C', 'credit', '{"a": 1}', '--backend', 'redis'], closed());
        expect(result.code).toBe(3);
        expect(lines(result.stderr)).toEqual([expect.stringContaining('E_REDIS_UNAVAILABLE')]);
        expect((await cli(['stats', '--backend', 'redis'], closed())).code).toBe(3);
      });

      it('with auto the commands work on the embedded store and say so once', async () => {
        const stored = await cli(['cache-pred', 'CUST009', 'credit', '{"risk_score": 0.5}'], closed());
        expect(stored.code).toBe(0);
        expect(lines(stored.stderr)).toEqual([
          `finrisk-cache: Redis at redis://127.0.0.1:${closedPort}/0 is not reachable (connect ECONNREFUSED 127.0.0.1:${closedPort}); ` +
            `using the embedded store at ${localPath}. Set CACHE_BACKEND=local to make that the choice, or REDIS_URL to use Redis.`,
        ]);
        const read = await cli(['get-pred', 'CUST009', 'credit'], closed());
        expect(read.code).toBe(0);
        expect(JSON.parse(read.stdout)).toEqual({ risk_score: 0.5 });
        expect(deployment.cli('EXISTS', `${prefix}:prediction:CUST009:credit`)).toBe('0');
        const stats = json(await cli(['stats', '--json'], closed()));
        expect(stats).toMatchObject({ backend: 'local', location: localPath, fallback: true, status: 'degraded' });
      });
    });
  }
});
