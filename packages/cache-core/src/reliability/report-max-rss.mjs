// Preloaded with `node --import` by the memory tests: when the process exits, it writes its peak
// resident set size (getrusage's maxRSS, the whole process, native buffers included) to stderr as
// one line `finrisk-test-max-rss-bytes=N`. It changes nothing else, so a program runs as it would.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  writeSync(2, `\nfinrisk-test-max-rss-bytes=${process.resourceUsage().maxRSS * 1024}\n`);
});
