import { measureSync } from '@finrisk/test-utils';
const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
const s = JSON.stringify(prediction);
const n = 1_000_000;
const enc = new TextEncoder();
const HEADER = Buffer.from([0xf1, 0x52, 1, 1, 0, 0]);
const res = [
  measureSync('byteLength', () => Buffer.byteLength(s), n),
  measureSync('allocUnsafe', () => Buffer.allocUnsafe(6 + s.length), n),
  measureSync('alloc+write', () => { const b = Buffer.allocUnsafe(6 + s.length); b.write(s, 6, 'utf8'); return b; }, n),
  measureSync('alloc+utf8Write', () => { const b = Buffer.allocUnsafe(6 + s.length); (b as any).utf8Write(s, 6); return b; }, n),
  measureSync('alloc+latin1Write', () => { const b = Buffer.allocUnsafe(6 + s.length); (b as any).latin1Write(s, 6); return b; }, n),
  measureSync('alloc+encodeInto', () => { const b = Buffer.allocUnsafe(6 + s.length * 3); enc.encodeInto(s, b.subarray(6)); return b; }, n),
  measureSync('Buffer.from', () => Buffer.from(s), n),
  measureSync('Buffer.from+concat', () => Buffer.concat([HEADER, Buffer.from(s)]), n),
  measureSync('from(header+s latin1)', () => Buffer.from('\u00f1R\u0001\u0001\u0000\u0000' + s, 'latin1'), n),
];

console.log(Object.fromEntries(res.map((m) => [m.name, m.usPerOp.toFixed(3)])));
