import { measureSync } from '@finrisk/test-utils';
const prediction = { risk_score: 0.75, decision: 'approve', confidence: 0.92, model_version: 'v1.2.0' };
const features = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`feature_${i}`, i % 3 === 0 ? i * 1.5 : i % 3 === 1 ? `v${i}` : i]));
function walk(value: unknown, depth: number): boolean {
  switch (typeof value) { case 'string': case 'boolean': return true; case 'number': return Number.isFinite(value) && !Object.is(value, -0); case 'bigint': case 'undefined': return false; case 'function': case 'symbol': throw 1; }
  if (value === null) return true;
  if (Array.isArray(value)) { let p = true; for (let i = 0; i < value.length; i++) if (!walk(value[i], depth + 1)) p = false; return p; }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype) { let p = true; for (const k in value as object) { if (k === '__proto__') p = false; if (!walk((value as any)[k], depth + 1)) p = false; } return p; }
  return false;
}
for (const [name, v] of [['prediction', prediction], ['features', features]] as const) {
  const n = 500_000;
  const s = JSON.stringify(v);
  const st = measureSync('stringify', () => JSON.stringify(v), n);
  const pa = measureSync('parse', () => JSON.parse(s), n);
  const w = measureSync('walk', () => walk(v, 0), n);
  const bl = measureSync('byteLength+alloc+write', () => { const b = Buffer.allocUnsafe(6 + Buffer.byteLength(s)); b.write(s, 6, 'utf8'); return b; }, n);
  const bf = measureSync('Buffer.from', () => Buffer.from(s), n);
  const buf = Buffer.from('xxxxxx' + s);
  const ts = measureSync('toString', () => buf.toString('utf8', 6), n);
  const rx = measureSync('regex', () => /"__proto__"|\\u00(?:5[fF]|6[fF]|7[024])/.test(s), n);
  console.log(name, Object.fromEntries([st, pa, w, bl, bf, ts, rx].map((m) => [m.name, m.usPerOp.toFixed(3)])));
}
