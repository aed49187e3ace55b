import { measureSync } from '@finrisk/test-utils';
import { decodeValueFast, encodeValueFast, serializeValue } from './src/codec.js';
const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
const features = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`feature_${i}`, i % 3 === 0 ? i * 1.5 : i % 3 === 1 ? `v${i}` : i]));
for (const [name, v] of [['prediction', prediction], ['features', features]] as const) {
  const n = 200_000;
  const a = measureSync('json', () => JSON.parse(JSON.stringify(v)), n);
  const a2 = measureSync('json+buffer', () => JSON.parse(Buffer.from(JSON.stringify(v)).toString()), n);
  const b = measureSync('envelope', () => decodeValueFast(encodeValueFast(v) as Buffer), n);
  const e = measureSync('encode', () => encodeValueFast(v), n);
  const enc = encodeValueFast(v) as Buffer;
  const d = measureSync('decode', () => decodeValueFast(enc), n);
  const s = measureSync('serialize', () => serializeValue(v), n);
  console.log(name, 'json', a.usPerOp.toFixed(3), 'json+buf', a2.usPerOp.toFixed(3), 'env', b.usPerOp.toFixed(3), 'enc', e.usPerOp.toFixed(3), 'dec', d.usPerOp.toFixed(3), 'ser', s.usPerOp.toFixed(3), 'ratio', (b.usPerOp / a.usPerOp).toFixed(2));
}
