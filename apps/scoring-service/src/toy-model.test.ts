import { describe, expect, it } from 'vitest';
import { customerIdProblem, modelVersionProblem } from './customer-id.js';
import { fetchFeatures, predict } from './toy-model.js';

const free = { featureLatencyMs: 0, inferenceCpuMs: 0 };

describe('toy model', () => {
  it('is deterministic per customer and differs between customers', async () => {
    const a = await fetchFeatures('CUST001', free);
    expect(await fetchFeatures('CUST001', free)).toEqual(a);
    expect(await fetchFeatures('CUST002', free)).not.toEqual(a);
    expect(predict('credit', 'v1', a, free)).toEqual(predict('credit', 'v1', a, free));
  });

  it('gives scores in 0..1 with decisions matching them, and a spread of decisions', async () => {
    const decisions = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const p = predict('credit', 'v1', await fetchFeatures(`C${i}`, free), free);
      expect(p.risk_score).toBeGreaterThanOrEqual(0);
      expect(p.risk_score).toBeLessThanOrEqual(1);
      expect(p.decision).toBe(p.risk_score < 0.3 ? 'approve' : p.risk_score > 0.6 ? 'decline' : 'review');
      decisions.add(p.decision);
    }
    expect([...decisions].sort()).toEqual(['approve', 'decline', 'review']);
  });

  it('carries the model version, and a new version moves the scores', async () => {
    const x = await fetchFeatures('CUST001', free);
    const v1 = predict('fraud', 'v1', x, free);
    const v2 = predict('fraud', 'v2', x, free);
    expect(v1.model_version).toBe('v1');
    expect(v2.model_version).toBe('v2');
    expect(v2.risk_score).not.toBe(v1.risk_score);
  });
});

describe('input checks', () => {
  it('accepts the ids upstream issues and refuses the rest with a reason', () => {
    expect(customerIdProblem('CUST-001_a.b')).toBeUndefined();
    expect(customerIdProblem('')).toMatch(/invalid customer id ""/);
    expect(customerIdProblem('a b')).toMatch(/1 to 64 letters/);
    expect(customerIdProblem('é')).toMatch(/1 to 64 letters/);
    expect(modelVersionProblem('v1.2.0+build.5')).toBeUndefined();
    expect(modelVersionProblem('v1/2')).toMatch(/invalid model version/);
  });
});
