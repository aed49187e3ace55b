import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** The models this service serves. */
export const MODEL_NAMES = ['credit', 'fraud'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** True when `name` is a model this service serves. */
export function isModelName(name: string): name is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(name);
}

/** A customer's feature vector, as a feature store would return it. */
export interface CustomerFeatures {
  [field: string]: number;
  age: number;
  income: number;
  debtRatio: number;
  creditHistoryMonths: number;
  latePayments12m: number;
  transactions30d: number;
  foreignTransactionShare: number;
}

/** What a model answers for one customer. */
export interface RiskPrediction {
  [field: string]: unknown;
  risk_score: number;
  decision: 'approve' | 'review' | 'decline';
  confidence: number;
  model_version: string;
}

/** Costs standing in for a real feature store and a real model, in ms. */
export interface ToyModelCosts {
  /** Wait of one feature-store read (I/O: the event loop stays free). @default 5 */
  featureLatencyMs: number;
  /** CPU time of one inference (blocks the event loop, as a model would). @default 1 */
  inferenceCpuMs: number;
}

export const DEFAULT_COSTS: ToyModelCosts = { featureLatencyMs: 5, inferenceCpuMs: 1 };

function unitFloats(seed: string, count: number): number[] {
  const digest = createHash('sha256').update(seed).digest();
  return Array.from({ length: count }, (_, i) => digest.readUInt32BE(i * 4) / 0x1_0000_0000);
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Deterministic features of a customer: the same id always gets the same vector. */
export async function fetchFeatures(customerId: string, costs: ToyModelCosts = DEFAULT_COSTS): Promise<CustomerFeatures> {
  if (costs.featureLatencyMs > 0) await sleep(costs.featureLatencyMs);
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0] = unitFloats(`features:${customerId}`, 7);
  return {
    age: 21 + Math.floor(a * 60),
    income: Math.round(18_000 + b * b * 220_000),
    debtRatio: round(c * 0.9),
    creditHistoryMonths: Math.floor(d * 360),
    latePayments12m: Math.floor(e * e * 8),
    transactions30d: Math.floor(f * 250),
    foreignTransactionShare: round(g * g * 0.6),
  };
}

function burnCpu(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // A real model spends this time in matrix products.
  }
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

// Per-version shift of the intercept, so that a new version visibly changes some scores.
function versionShift(version: string): number {
  const [u = 0.5] = unitFloats(`version:${version}`, 1);
  return (u - 0.5) * 0.4;
}

/** Runs a toy logistic model on a customer's features. Deterministic for a (model, version, features). */
export function predict(model: ModelName, version: string, x: CustomerFeatures, costs: ToyModelCosts = DEFAULT_COSTS): RiskPrediction {
  if (costs.inferenceCpuMs > 0) burnCpu(costs.inferenceCpuMs);
  const z =
    model === 'credit'
      ? -1.2 + 2.6 * x.debtRatio + 0.45 * x.latePayments12m - 0.004 * x.creditHistoryMonths - 0.000006 * x.income - 0.01 * (x.age - 40)
      : -3.1 + 5.5 * x.foreignTransactionShare + 0.006 * x.transactions30d - 0.002 * x.creditHistoryMonths + 0.2 * x.latePayments12m;
  const risk = round(sigmoid(z + versionShift(`${model}:${version}`))); // decided on what the caller sees
  const [approveBelow, declineAbove] = model === 'credit' ? [0.3, 0.6] : [0.5, 0.8];
  const decision = risk < approveBelow ? 'approve' : risk > declineAbove ? 'decline' : 'review';
  // Confidence: distance from the nearest decision boundary, scaled to 0.5..1.
  const margin = Math.min(Math.abs(risk - approveBelow), Math.abs(risk - declineAbove));
  return { risk_score: risk, decision, confidence: round(0.5 + Math.min(margin * 2, 0.5)), model_version: version };
}
