/**
 * How a write commits, like a database: the manifest SET is the commit point, and its outcome is
 * known before anything is deleted.
 *
 * A SET whose reply did not come in time may have been applied all the same (its reply was late,
 * or lost with the connection). Deleting the new chunks then, as writes did before, left a
 * manifest naming deleted chunks (the table a miss for everyone) and the previous version's
 * chunks orphaned. So an unknown outcome is resolved by reading the manifest back, a few times
 * under growing deadlines: the read goes on the same connection as the SET, behind it (a
 * deadline does not reset the connection), so Redis answers it after the SET was applied or
 * dropped. The new version there: committed. Anything else there (the previous version,
 * another writer's, or none): failed, and only the new chunks are removed. No answer at all:
 * nothing is deleted, and every chunk involved keeps a TTL, so what is not named expires.
 *
 * A table cached with `ttl: null` has chunks without TTL once committed. Until then they carry
 * the staging TTL, and its manifest is first written with half of it; then the manifest's TTL is
 * taken away, then the chunks'. A writer killed in between leaves keys that expire, never a
 * chunk without TTL that nothing names (at worst a manifest naming chunks that expired: a miss
 * with a CHUNK_MISSING event). The previous version's chunks, if they had no TTL, get the
 * staging TTL before the SET (a kill right after it would leave them for ever otherwise); a SET
 * that failed gives it back to them. A writer killed between those two steps leaves the previous
 * table with chunks that expire: the one window where a kill can cost the previous table.
 */
import { FinRiskCacheError, type CacheKey } from '@finrisk/cache-core';
import { persistKeys } from './core-gaps.js';
import { chunkKey, type FrameContext } from './frame-context.js';
import { timerMs } from './frame-options.js';
import { checkManifest, type FrameManifest } from './manifest.js';
import { manifestKeyInRedis, renewKeys, unregisterWrite } from './staging.js';

/**
 * Reads of the manifest before a commit, and after a SET without a reply: the first gets twice
 * `commandTimeoutMs` (at least 100 ms), each next one twice the one before, so that a reply
 * delayed up to 16 times the command deadline is still read (30 times it, all tries together).
 */
export const READ_BACK_TRIES = 4;

type Outcome = 'committed' | 'failed' | 'unknown';

/** What a commit needs of its write. */
export interface CommitInput {
  name: string;
  manifest: FrameManifest;
  chunkKeys: readonly CacheKey[];
  /** The table's TTL in ms; undefined for none. */
  ttlMs: number | undefined;
  /** Removes this write's chunks and its entry in the record. */
  cleanUp(): Promise<void>;
}

/**
 * The manifest of `name` as Redis holds it now: `{ value }` (null when there is none), or
 * undefined when the backend did not answer within `timeoutMs`.
 */
async function readManifestNow(ctx: FrameContext, name: string, timeoutMs: number): Promise<{ value: unknown } | undefined> {
  try {
    const [value] = await ctx.cache.getMany([manifestKeyInRedis(ctx.cache, name)], { timeoutMs: timerMs(timeoutMs), throwOnFailure: true });
    return { value };
  } catch (error) {
    if (FinRiskCacheError.isInstance(error) && (error.code === 'E_CLOSED' || error.code === 'E_INVALID_KEY')) throw error;
    return undefined;
  }
}

/** The version a stored manifest names, if it is one this package wrote for `name`. */
function versionOf(value: unknown, name: string): FrameManifest | undefined {
  if (value === null || value === undefined) return undefined;
  const checked = checkManifest(value, name, { maxChunkBytes: Infinity, maxTableBytes: Infinity });
  return 'manifest' in checked ? checked.manifest : undefined;
}

/** The manifest as Redis holds it now, asked up to {@link READ_BACK_TRIES} times; undefined when no try was answered. */
async function readManifestPatiently(ctx: FrameContext, name: string): Promise<{ value: unknown } | undefined> {
  const base = Math.max(ctx.cache.config.commandTimeoutMs, 100);
  for (let attempt = 1; attempt <= READ_BACK_TRIES; attempt++) {
    const now = await readManifestNow(ctx, name, base * 2 ** attempt);
    if (now) return now;
  }
  return undefined;
}

/** Reads the manifest back after a SET whose outcome is unknown. */
async function resolve(ctx: FrameContext, name: string, version: string): Promise<Outcome> {
  const now = await readManifestPatiently(ctx, name);
  if (!now) return 'unknown';
  return versionOf(now.value, name)?.version === version ? 'committed' : 'failed';
}

const chunkKeysOf = (ctx: FrameContext, manifest: FrameManifest) =>
  manifest.columns.flatMap((c) => c.chunks.map((k) => chunkKey(ctx.cache, manifest.name, manifest.version, k.index)));

/**
 * Switches the manifest of `input.name` to `input.manifest`; true once it is committed (the
 * previous version's chunks removed), false when it is not (only this write's chunks removed),
 * or not known (nothing removed). In strict mode a backend failure is thrown, after the same.
 */
export async function commitWrite(ctx: FrameContext, input: CommitInput): Promise<boolean> {
  const { cache, options } = ctx;
  const { name, manifest, ttlMs } = input;
  const stagingSeconds = options.stagingSeconds;
  const readMs = 2 * Math.max(cache.config.commandTimeoutMs, 100);

  // The previous version, to remove once this one is committed. A backend that cannot answer
  // this cannot take the SET either: the write fails rather than orphan what it cannot name.
  const before = await readManifestPatiently(ctx, name);
  if (!before) {
    await input.cleanUp();
    if (cache.config.strict) throw new FinRiskCacheError('E_TIMEOUT', `could not read the manifest of table ${JSON.stringify(name)} to replace it`);
    return false;
  }
  const previous = versionOf(before.value, name);
  const replaced = previous && previous.version !== manifest.version ? previous : undefined;
  const replacedKeys = replaced ? chunkKeysOf(ctx, replaced) : [];

  // The previous version's chunks, if they have no TTL, get the staging TTL first, answered
  // before the SET is sent: a process killed right after the SET would otherwise leave them
  // without one for ever. Sending both in one tick is not enough: the socket of a killed process
  // is reset when replies are still unread, and what it had not yet delivered is lost.
  const retired = replaced !== undefined && replaced.ttlSeconds === null;
  if (retired) await renewKeys(cache, replacedKeys, stagingSeconds);

  manifest.writtenAt = Date.now();
  let thrown: { error: unknown } | undefined;
  const stored = await cache.set(manifestKeyInRedis(cache, name), manifest, { ttl: ttlMs === undefined ? stagingSeconds / 2 : ttlMs / 1000, compress: false }).catch((error: unknown) => {
    thrown = { error };
    return false;
  });
  const outcome: Outcome = stored ? 'committed' : await resolve(ctx, name, manifest.version);

  if (outcome === 'committed') {
    if (ttlMs === undefined) await persistCommitted(ctx, input, readMs * 2);
    if (replacedKeys.length > 0) await cache.deleteMany(replacedKeys);
    await unregisterWrite(ctx, name, manifest.version);
    return true;
  }
  if (outcome === 'failed') {
    await input.cleanUp();
    if (retired) {
      // The previous table is still the one: its chunks get their TTL back (none).
      const now = await readManifestPatiently(ctx, name);
      if (now && versionOf(now.value, name)?.version === replaced!.version) {
        await persistKeys(cache, replacedKeys, readMs * 2).catch((error: unknown) => report(ctx, error, name));
      }
    }
  }
  // Unknown: nothing is deleted; every chunk involved has a TTL.
  if (thrown && cache.config.strict) throw thrown.error;
  return false;
}

/**
 * Takes the TTLs of a committed `ttl: null` table away: the manifest's first, answered before
 * the chunks' are sent, so that a process killed in between leaves chunks that expire under a
 * manifest that does not (a miss with a CHUNK_MISSING event once they do), never chunks without
 * a TTL that nothing names. When the chunks' cannot be taken, the manifest gets its TTL back:
 * the table is whole until it expires, with its chunks.
 */
async function persistCommitted(ctx: FrameContext, input: CommitInput, timeoutMs: number): Promise<void> {
  const { cache, options } = ctx;
  const key = manifestKeyInRedis(cache, input.name);
  try {
    await persistKeys(cache, [key], timeoutMs);
  } catch (error) {
    report(ctx, error, input.name);
    return;
  }
  try {
    await persistKeys(cache, input.chunkKeys, timeoutMs);
  } catch (error) {
    report(ctx, error, input.name);
    await cache.expire(key, options.stagingSeconds / 2).catch(() => false);
  }
}

/** A failure to take TTLs away, as an error event of the cache (the write's outcome is already known). */
function report(ctx: FrameContext, error: unknown, name: string): void {
  const err = FinRiskCacheError.isInstance(error) ? error : new FinRiskCacheError('E_INTERNAL', `table ${JSON.stringify(name)}: ${String(error)}`, { cause: error });
  ctx.cache.reportError({ error: err, operation: 'cacheDataFrame', kind: 'dataframe' });
}
