// The other process of a coherence run: it writes through the same library, set up the same way,
// WARM_WRITES writes 10 ms apart and then `count` writes 2 ms apart, each carrying when it was sent.
// Exits non-zero with the library's message when a write fails.
import { contenderById } from './contenders.ts';
import { makeStamp, WARM_WRITES } from './stamp.ts';

const [id, url, prefix, key, count] = process.argv.slice(2) as [string, string, string, string, string];
const instance = await contenderById(id).create({ url, prefix, l1Entries: 1000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
try {
  for (let seq = 0; seq < WARM_WRITES + Number(count); seq++) {
    if (!(await instance.set(key, { stamp: makeStamp(seq) }))) throw new Error(`write ${seq} was not stored: ${instance.reported.join('; ') || 'no error reported'}`);
    await sleep(seq < WARM_WRITES ? 10 : 2);
  }
} finally {
  await instance.close();
}
if (instance.reported.length > 0) {
  process.stderr.write(`${instance.reported.length} errors reported: ${instance.reported[0]}\n`);
  process.exitCode = 1;
}
