import { SETTINGS } from '@finrisk/cache-core';
import { ExitCode } from './exit-codes.js';

/** The exit statuses, as printed at the end of `--help`. */
export const EXIT_STATUS_HELP = `Exit statuses (the same for every command):
  ${ExitCode.OK}  success
  ${ExitCode.NOT_FOUND}  not found: nothing cached under that name, or it is corrupt (a get-* miss)
  ${ExitCode.USAGE}  bad usage or bad input: unknown command or option, invalid JSON, a file missing or unusable (E_FILE), invalid setting
  ${ExitCode.UNAVAILABLE}  backend unavailable: Redis unreachable or failing (check), embedded store unusable
  ${ExitCode.ALERT}  monitor: a threshold was crossed (low hit rate, high memory)
  ${ExitCode.INTERNAL}  unexpected failure (a bug): rerun with --debug and report the trace`;

/** The environment variables with their defaults, as printed at the end of `--help` (from the settings table). */
export const ENVIRONMENT_HELP = `Configuration (flags > environment > .env in the current directory > defaults; see \`finrisk-cache config\`):
${wrap(SETTINGS.map((s) => (s.default === undefined ? s.variable : `${s.variable} (${String(s.default)})`)).concat('NO_COLOR'), 98, '  ')}`;

/** Comma-separated items wrapped at `width` columns, each line indented. */
function wrap(items: readonly string[], width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const [i, item] of items.entries()) {
    const piece = i < items.length - 1 ? `${item},` : item;
    if (line && indent.length + line.length + 1 + piece.length > width) {
      lines.push(indent + line);
      line = piece;
    } else line = line ? `${line} ${piece}` : piece;
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

/** The guide's examples, as printed at the end of `--help`. */
export const EXAMPLES_HELP = `Examples:
  finrisk-cache check
  finrisk-cache cache-pred CUST001 credit '{"risk_score": 0.75, "decision": "approve", "confidence": 0.92}'
  finrisk-cache get-pred CUST001 credit
  finrisk-cache cache-feat CUST001 '{"age": 35, "income": 75000, "credit_score": 720}'
  finrisk-cache cache-df customer_data data/customers.csv --ttl 3600
  finrisk-cache get-df customer_data --output customers_export.csv
  finrisk-cache stats | grep "Hit Rate"
  finrisk-cache monitor --once --min-hit-rate 0.8 --max-memory-mb 1000`;
