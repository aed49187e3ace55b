import { isAtLeast, type ServerIdentity } from './server-identity.ts';

/**
 * The least-privilege ACL users of SECURITY.md, written once: the ACL tests create their users
 * from this list, and SECURITY.md's recipes are generated from it (`pnpm --filter
 * @finrisk/test-utils docs:acl`; acl-recipes.test.ts fails when SECURITY.md's copy differs). A
 * rule a server does not know makes ACL SETUSER refuse the whole line, so a rule that only some
 * servers have says from which version on.
 */

/** The first versions that have a rule's command, per server; a server not named lacks it. */
export interface ServerRequirement {
  /** Redis version from which on the rule exists. */
  readonly redis?: string;
  /** Valkey version from which on the rule exists. */
  readonly valkey?: string;
}

/** Rules that go together, and why the SDK needs them. */
export interface AclGroup {
  /** The commands as SECURITY.md's table names them, e.g. `GET`, `MGET`. */
  readonly commands: readonly string[];
  /** The ACL rules, e.g. `+get`. */
  readonly rules: readonly string[];
  /** What the SDK uses them for (markdown). */
  readonly usedFor: string;
  /** Only on these servers; absent: on every server. */
  readonly since?: ServerRequirement;
}

/** A user that SECURITY.md documents and the tests create. */
export interface AclRole {
  /** The user name of the recipe. */
  readonly user: string;
  /** Who runs under it (markdown). */
  readonly who: string;
  /** A role whose rules come first (the recipe is that role's plus {@link AclRole.groups}). */
  readonly extends?: AclRoleName;
  readonly groups: readonly AclGroup[];
}

/** The roles: the SDK and CLI, the SDK with L1, the read-only dashboard and the dashboard that may clear. */
export type AclRoleName = 'app' | 'l1' | 'dashboard' | 'dashboard-clears';

/** node-redis sends CLIENT SETINFO (library name and version) on every connect from Redis 7.2 on. */
const CLIENT_SETINFO: AclGroup = {
  commands: ['CLIENT SETINFO'],
  rules: ['+client|setinfo'],
  usedFor: 'node-redis names itself on every connection (it ignores a refusal, but `ACL LOG` records one per connection)',
  // Valkey forked from Redis 7.2.4, which has it.
  since: { redis: '7.2.0', valkey: '7.2.0' },
};

/** Features are a hash per customer in the `finrisk` layout: reads of some (HMGET) or all fields, and whether the server expires fields itself. */
const HASH_READS: AclGroup = {
  commands: ['HMGET', 'HGETALL', 'COMMAND INFO'],
  rules: ['+hmget', '+hgetall', '+command|info'],
  usedFor: "a customer's features, some (`only`) or all; `COMMAND INFO HPEXPIRE` asks once whether the server expires hash fields itself",
};

/** Redis 7.4 expires single hash fields; the SDK uses it for the TTL of one feature where it exists. */
const HASH_FIELD_EXPIRY: AclGroup = {
  commands: ['HPEXPIRE'],
  rules: ['+hpexpire'],
  usedFor: 'the TTL of one feature (`updateFeatures` with `ttl`), inside the write script; older servers keep the deadlines in the hash instead',
  since: { redis: '7.4.0' },
};

/** Every role, by name. */
export const ACL_ROLES: Readonly<Record<AclRoleName, AclRole>> = {
  app: {
    user: 'finrisk-app',
    who: 'the SDK (cache-core, cache-ml) and the `finrisk-cache` CLI',
    groups: [
      { commands: ['GET', 'MGET', 'GETEX'], rules: ['+get', '+mget', '+getex'], usedFor: 'reads, batch reads, sliding expiry (sessions, `getAndTouch`)' },
      { commands: ['SET'], rules: ['+set'], usedFor: 'writes (with `PX`, `NX`), locks (`setIfAbsent`), generation tokens' },
      { commands: ['EXISTS', 'PTTL', 'PEXPIRE', 'INCR'], rules: ['+exists', '+pttl', '+pexpire', '+incr'], usedFor: '`exists`, `ttl`/`pttl`, `expire`/`touch`, counters' },
      { commands: ['UNLINK'], rules: ['+unlink'], usedFor: '`delete`, `deleteMany`, `deleteByPrefix`' },
      { commands: ['EVAL', 'DEL'], rules: ['+eval', '+del'], usedFor: 'releasing a lock only if it is still yours (a compare-and-delete script; the `GET` and `DEL` inside it are checked too)' },
      { commands: ['SCAN'], rules: ['+scan'], usedFor: '`scan`, `countByPrefix`, `deleteByPrefix`, `clear-*` (never `KEYS`)' },
      { commands: ['PING', 'INFO', 'DBSIZE'], rules: ['+ping', '+info', '+dbsize'], usedFor: '`checkConnection`, `stats`, `finrisk-cache check`/`stats`' },
      { commands: ['MEMORY USAGE'], rules: ['+memory|usage'], usedFor: '`finrisk-cache stats` (bytes per kind); not needed by the SDK itself' },
      { commands: ['ZADD', 'ZREMRANGEBYSCORE', 'ZRANGEBYSCORE'], rules: ['+zadd', '+zremrangebyscore', '+zrangebyscore'], usedFor: 'fleet statistics: the index of the processes\' published counters' },
      { commands: ['GETRANGE'], rules: ['+getrange'], usedFor: 'fleet statistics: each record is read at most 64 KiB, whatever another process stored' },
      HASH_READS,
      {
        commands: ['EVALSHA', 'HSET', 'HGET', 'HDEL', 'TYPE'],
        rules: ['+evalsha', '+hset', '+hget', '+hdel', '+type'],
        usedFor: "partial feature updates (`setFields`, `updateFeatures`, `mergeJson`): the write scripts, run by their SHA1 (`EVAL` when the server lacks them), and their commands (checked inside scripts too); `deleteFields`",
      },
      HASH_FIELD_EXPIRY,
      CLIENT_SETINFO,
    ],
  },
  l1: {
    user: 'finrisk-app',
    who: 'the same with the L1 tier on (`CACHE_L1_MAX_MB`)',
    extends: 'app',
    groups: [
      { commands: ['HELLO', 'CLIENT TRACKING'], rules: ['+hello', '+client|tracking'], usedFor: 'L1\'s invalidation connections: RESP3, and broadcast tracking of the cache\'s key prefixes' },
    ],
  },
  dashboard: {
    user: 'finrisk-dashboard',
    who: 'the read-only `finrisk-cache dashboard`',
    groups: [
      { commands: ['PING', 'INFO', 'DBSIZE'], rules: ['+ping', '+info', '+dbsize'], usedFor: 'status, memory and key count at every refresh' },
      { commands: ['SCAN', 'GET', 'MGET', 'PTTL'], rules: ['+scan', '+get', '+mget', '+pttl'], usedFor: 'keys per kind, a customer\'s entries, the frames and their previews' },
      { commands: ['ZRANGEBYSCORE', 'GETRANGE'], rules: ['+zrangebyscore', '+getrange'], usedFor: 'the fleet statistics: their index, and each record read at most 64 KiB' },
      HASH_READS,
      CLIENT_SETINFO,
    ],
  },
  'dashboard-clears': {
    user: 'finrisk-dashboard',
    who: 'the dashboard with `--allow-writes`',
    extends: 'dashboard',
    groups: [{ commands: ['UNLINK'], rules: ['+unlink'], usedFor: 'the clears the page offers' }],
  },
};

/** Every group of a role, its parent's first. */
export function aclGroups(role: AclRoleName): AclGroup[] {
  const spec = ACL_ROLES[role];
  return [...(spec.extends ? aclGroups(spec.extends) : []), ...spec.groups];
}

/** True when `server` has the commands of `group`. */
export function groupApplies(group: AclGroup, server: ServerIdentity): boolean {
  if (!group.since) return true;
  const minimum = group.since[server.name];
  return minimum !== undefined && isAtLeast(server.version, minimum);
}

/** Options of {@link aclRules} and {@link aclSetUser}. */
export interface AclRuleOptions {
  /** The key prefix the user may touch (`CACHE_KEY_PREFIX`). @default 'finrisk' */
  prefix?: string;
}

/** The rules of a role on one server: keys limited to the prefix, no channel, only its commands. */
export function aclRules(role: AclRoleName, server: ServerIdentity, options: AclRuleOptions = {}): string[] {
  const rules = aclGroups(role)
    .filter((g) => groupApplies(g, server))
    .flatMap((g) => g.rules);
  return ['resetkeys', `~${options.prefix ?? 'finrisk'}:*`, 'resetchannels', '-@all', ...new Set(rules)];
}

/** The arguments of `ACL SETUSER` that create (or reset) a role's user on one server, enabled, with a password. */
export function aclSetUser(
  role: AclRoleName,
  server: ServerIdentity,
  user: { name?: string; password: string },
  options: AclRuleOptions = {},
): string[] {
  return ['ACL', 'SETUSER', user.name ?? ACL_ROLES[role].user, 'reset', 'on', `>${user.password}`, ...aclRules(role, server, options)];
}

/** Where SECURITY.md's generated recipes start and end. */
export const ACL_RECIPES_START = '<!-- acl-recipes:start (generated by `pnpm --filter @finrisk/test-utils docs:acl` from packages/test-utils/src/acl-recipes.ts, the list the ACL tests use) -->';
export const ACL_RECIPES_END = '<!-- acl-recipes:end -->';

/** The newest servers the recipes are written for: every versioned rule applies to them. */
const NEWEST: ServerIdentity = { name: 'redis', version: '99.0.0', redisVersion: '99.0.0' };

const code = (items: readonly string[]) => items.map((c) => `\`${c}\``).join(', ');
const cell = (text: string) => text.replaceAll('|', '\\|');

function serversText(since: ServerRequirement | undefined): string {
  if (!since) return 'all';
  const parts = [since.redis && `Redis ${since.redis.replace(/\.0$/, '')}+`, since.valkey && `Valkey ${since.valkey.replace(/\.0$/, '')}+`];
  return parts.filter(Boolean).join(', ');
}

const rulesText = (groups: readonly AclGroup[]) => `\`${groups.flatMap((g) => g.rules).join(' ')}\``;

function recipeMarkdown(role: AclRoleName): string {
  const spec = ACL_ROLES[role];
  const line = ['ACL', 'SETUSER', spec.user, 'reset', 'on', '>PASSWORD', ...aclRules(role, NEWEST)].join(' ');
  const out = [`#### \`${role}\`: ${spec.who}`, ''];
  if (spec.extends) out.push(`\`${spec.extends}\` and ${rulesText(spec.groups)}:`, '');
  out.push('```', line, '```', '');
  for (const group of aclGroups(role).filter((g) => g.since)) {
    out.push(`${rulesText([group])} needs ${serversText(group.since)}: leave it out on older servers, which refuse the whole line otherwise.`, '');
  }
  out.push(
    '| command | rule | used for | servers |',
    '|---|---|---|---|',
    ...spec.groups.map((g) => `| ${code(g.commands)} | ${cell(rulesText([g]))} | ${cell(g.usedFor)} | ${serversText(g.since)} |`),
  );
  return out.join('\n');
}

/** The generated part of SECURITY.md: every role's `ACL SETUSER` line and what each rule is for. */
export function aclRecipesMarkdown(): string {
  return (Object.keys(ACL_ROLES) as AclRoleName[]).map(recipeMarkdown).join('\n\n');
}

/**
 * `markdown` with its generated recipes (between the start marker, whatever its comment says, and
 * the end marker) replaced by the current ones; throws when the markers are missing.
 */
export function withAclRecipes(markdown: string): string {
  const start = markdown.indexOf('<!-- acl-recipes:start');
  const startEnd = markdown.indexOf('-->', start) + '-->'.length;
  const end = markdown.indexOf(ACL_RECIPES_END);
  if (start < 0 || end < startEnd) throw new Error(`no acl-recipes markers (${ACL_RECIPES_START} ... ${ACL_RECIPES_END})`);
  return `${markdown.slice(0, start)}${ACL_RECIPES_START}\n\n${aclRecipesMarkdown()}\n\n${markdown.slice(end)}`;
}
