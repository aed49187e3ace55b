// Heap per L1 entry of one library, in a process of its own (node --expose-gc): the heap after
// the library is set up and warm, against the heap after `entries` predictions were written and
// read twice through it (some L1s fill on read, and some keep a write's strings unflattened until
// a read). Prints one JSON line. A third read pass counts the commands Redis processed, which says
// whether L1 really held every entry.
import { execFileSync } from 'node:child_process';
import { contenderById, makePrediction } from './contenders.ts';

const [id, url, prefix, entriesArg, port] = process.argv.slice(2) as [string, string, string, string, string];
const entries = Number(entriesArg);
const gc = globalThis.gc;
if (typeof gc !== 'function') throw new Error('run with node --expose-gc');

const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const commandsProcessed = () =>
  Number(/total_commands_processed:(\d+)/.exec(execFileSync('redis-cli', ['-p', port, 'INFO', 'stats'], { encoding: 'utf8' }))?.[1]);

const before = heap();
const instance = await contenderById(id).create({ url, prefix, l1Entries: entries });
for (let i = 0; i < 50; i++) {
  await instance.set(`W${i}`, makePrediction());
  await instance.get(`W${i}`);
}
const keys = Array.from({ length: entries }, (_, i) => `M${i}`);
const start = heap();
let misses = 0;
for (const key of keys) if (!(await instance.set(key, makePrediction()))) misses++;
for (let pass = 0; pass < 2; pass++) for (const key of keys) if ((await instance.get(key)) == null) misses++;
const filled = heap();
// Calibrates what the INFO calls themselves count.
const c0 = commandsProcessed();
const c1 = commandsProcessed();
for (const key of keys) if ((await instance.get(key)) == null) misses++;
const c2 = commandsProcessed();
const result = {
  id,
  entries,
  setupBytes: start - before,
  bytesPerEntry: (filled - start) / entries,
  redisCommandsInHotPass: Math.max(0, c2 - c1 - (c1 - c0)),
  misses,
  reported: instance.reported.slice(0, 3),
  reportedCount: instance.reported.length,
};
await instance.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
