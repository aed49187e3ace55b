import { measureSync } from '@finrisk/test-utils';
import { decodeValueFast, encodeValueFast, serializeValue } from './src/codec.js';
const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
const n = 1_000_000;
const env = encodeValueFast(prediction) as Buffer;
const s = JSON.stringify(prediction);
for (let r = 0; r < 2; r++) {
const res = [
  measureSync('stringify', () => JSON.stringify(prediction), n),
  measureSync('parse', () => JSON.parse(s), n),
  measureSync('serializeValue', () => serializeValue(prediction), n),
  measureSync('encodeValueFast', () => encodeValueFast(prediction), n),
  measureSync('decodeValueFast', () => decodeValueFast(env), n),
  measureSync('json rt', () => JSON.parse(JSON.stringify(prediction)), n),
  measureSync('env rt', () => decodeValueFast(encodeValueFast(prediction) as Buffer), n),
];
console.log(Object.fromEntries(res.map((m) => [m.name, m.usPerOp.toFixed(3)])));
}
