import { ExitCode } from './exit-codes.js';

/** The exit statuses, as printed at the end of `--help`. */
export const EXIT_STATUS_HELP = `Exit statuses (the same for every command):
  ${ExitCode.OK}  success
  ${ExitCode.NOT_FOUND}  not found: nothing cached under that name, or it is corrupt (a get-* miss)
  ${ExitCode.USAGE}  bad usage or bad input: unknown command or option, invalid JSON, a file missing or unusable (E_FILE), invalid setting
  ${ExitCode.UNAVAILABLE}  backend unavailable: Redis unreachable or failing (check), embedded store unusable
  ${ExitCode.ALERT}  monitor: a threshold was crossed (low hit rate, high memory)
  ${ExitCode.INTERNAL}  unexpected failure (a bug): rerun with --debug and report the trace`;

/** The environment variables, as printed at the end of `--help`. */
export const ENVIRONMENT_HELP = `Configuration (flags > environment > .env in the current directory > defaults; see \`finrisk-cache config\`):
  REDIS_URL, REDIS_HOST (localhost), REDIS_PORT (6379), REDIS_DB (0), REDIS_USERNAME, REDIS_PASSWORD,
  REDIS_CLUSTER_NODES (host:port,...), REDIS_SENTINELS (host:port,...) with REDIS_SENTINEL_MASTER,
  REDIS_TLS_CA, REDIS_TLS_CERT, REDIS_TLS_KEY, CACHE_BACKEND (auto: Redis, else the embedded store),
  CACHE_LOCAL_PATH, CACHE_KEY_PREFIX (finrisk), CACHE_KEY_LAYOUT (finrisk | finrisk-python),
  CACHE_PREDICTION_TTL (3600), CACHE_FEATURE_TTL (1800), CACHE_MODEL_TTL (86400),
  CACHE_DATAFRAME_TTL (7200), CACHE_DEFAULT_TTL (1800), NO_COLOR`;

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
