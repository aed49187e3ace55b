// Preloaded with `node --import`: at exit, writes this process's peak resident set size (KiB,
// from getrusage) to the file named by FINRISK_MAX_RSS_FILE. The memory a command took is
// measured in its own process, never in the test runner's.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.FINRISK_MAX_RSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS));
});
