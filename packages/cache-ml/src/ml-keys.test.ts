import { createCache } from '@finrisk/cache-core';
import { describe, expect, it } from 'vitest';
import { MlKeys } from './ml-keys.js';

const cache = createCache({ backend: 'memory', envFile: false, env: {}, keyPrefix: 'fr' });

describe('MlKeys, finrisk layout', () => {
  const keys = new MlKeys(cache, 'finrisk');

  it('puts the customer before the model type, so one literal prefix covers a customer', () => {
    expect(keys.prediction('CUST001', 'credit').key).toBe('fr:prediction:CUST001:credit');
    expect(keys.predictionPrefix('CUST001').prefix).toBe('fr:prediction:CUST001:');
    expect(keys.prediction('CUST001', 'credit').key.startsWith(keys.predictionPrefix('CUST001').prefix)).toBe(true);
  });

  it('encodes ":" so that an id cannot reach into another customer\'s keys', () => {
    // Without encoding, customer "A:fraud" with model "x" would sit under customer "A"'s prefix.
    const tricky = keys.prediction('A:fraud', 'x').key;
    expect(tricky).toBe('fr:prediction:A%3Afraud:x');
    expect(tricky.startsWith(keys.predictionPrefix('A').prefix)).toBe(false);
  });

  it('keeps glob characters, spaces and unicode literal', () => {
    expect(keys.prediction('*', 'credit').key).toBe('fr:prediction:*:credit');
    expect(keys.feature('a b?[c]').key).toBe('fr:feature:a b?[c]');
    expect(keys.feature('客户-ü').key).toBe('fr:feature:客户-ü');
  });

  it('builds generation, artifact and lock keys', () => {
    expect(keys.generation('credit').key).toBe('fr:generation:prediction:credit');
    expect(keys.artifact('credit_risk', 'v1.2.0').key).toBe('fr:model:credit_risk:v1.2.0');
    expect(keys.artifactPrefix('credit_risk').prefix).toBe('fr:model:credit_risk:');
    expect(keys.artifactPrefix().prefix).toBe('fr:model:');
    expect(keys.lock(keys.feature('C1')).key).toBe('fr:lock:feature:fr%3Afeature%3AC1');
  });

  it('refuses empty ids and control characters with E_INVALID_KEY', () => {
    expect(() => keys.prediction('', 'credit')).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
    expect(() => keys.feature('a\nb')).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
    expect(() => keys.artifact('m', '')).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
  });
});

describe('MlKeys, finrisk-python layout', () => {
  const keys = new MlKeys(cache, 'finrisk-python');

  it("uses the Python service's keys and plain JSON", () => {
    expect(keys.prediction('CUST001', 'credit')).toEqual({ kind: 'prediction', key: 'prediction:credit:CUST001', format: 'json' });
    expect(keys.feature('CUST001')).toEqual({ kind: 'feature', key: 'features:CUST001', format: 'json' });
  });

  it('keeps artifacts in the finrisk layout', () => {
    expect(keys.artifact('m', 'v1').key).toBe('fr:model:m:v1');
  });

  it("refuses a model type with ':' (its key could not be split), accepts such a customer id", () => {
    expect(() => keys.prediction('C1', 'credit:v2')).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }));
    expect(keys.prediction('a:b', 'credit').key).toBe('prediction:credit:a:b');
    expect(keys.pythonCustomerOf('prediction:credit:a:b')).toBe('a:b');
    expect(keys.pythonCustomerOf('features:x')).toBeNull();
  });
});
