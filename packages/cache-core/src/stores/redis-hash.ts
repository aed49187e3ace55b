import { createHash } from 'node:crypto';
import { ErrorReply, type RedisArgument } from '@redis/client';
import { FinRiskCacheError } from '../errors.js';
import { checkFieldNames, RESERVED_FIELD_PREFIX, wrongType, type HashFieldWrite, type HashReadResult, type HashWriteOptions } from './hash-store.js';

/** Sends one command to the node that holds `firstKey`, bulk strings answered as Buffers. */
export type SendFn = <T>(args: RedisArgument[], firstKey: string, readonly: boolean) => Promise<T>;

/**
 * The field of a hash where servers without field expiry keep the other fields' deadlines: a JSON
 * object of field name to epoch ms. It starts with U+0000, which no caller's field may.
 */
export const DEADLINES_FIELD = `${RESERVED_FIELD_PREFIX}exp`;

// One atomic write of a hash's fields, with the key's TTL only ever lengthened (a streaming update
// with a short TTL must not cut the life of the batch fields beside it). ARGV: now (ms), key TTL
// (ms, '' for none), replace ('1'), native field expiry ('1'), the plain value a conversion
// expects ('' for none), the number n of fields it converts to, their 2n field and value, then
// field, value, field TTL ('' for none) triples. Answers 0 when the key holds a plain value that
// is not the one expected (the caller reads it and converts), 1 when written. Without native expiry the deadlines live in DEADLINES_FIELD, and the fields past
// theirs are deleted here, on write: reads only filter them out. HSET of a field clears a TTL the
// server kept for it, so a field written without one loses its old one, as it should.
const HASH_WRITE = `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local keyTtl = tonumber(ARGV[2])
local native = ARGV[4] == '1'
local converted = tonumber(ARGV[6])
local first = 7 + 2 * converted
if ARGV[3] == '1' then redis.call('DEL', key) end
local kind = redis.call('TYPE', key)['ok']
if kind == 'string' then
  if ARGV[5] == '' or redis.call('GET', key) ~= ARGV[5] then return 0 end
  local keep = redis.call('PTTL', key)
  redis.call('DEL', key)
  if converted > 0 then
    local old = {}
    for i = 7, first - 1 do old[#old + 1] = ARGV[i] end
    redis.call('HSET', key, unpack(old))
    if keep > 0 then redis.call('PEXPIRE', key, keep) end
  end
elseif kind ~= 'hash' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE Operation against a key holding the wrong kind of value')
end
local deadlines
if not native then
  local raw = redis.call('HGET', key, '${DEADLINES_FIELD}')
  deadlines = {}
  if raw then
    local ok, decoded = pcall(cjson.decode, raw)
    if ok and type(decoded) == 'table' then deadlines = decoded end
  end
  for f, d in pairs(deadlines) do
    if type(d) ~= 'number' or d <= now then
      redis.call('HDEL', key, f)
      deadlines[f] = nil
    end
  end
end
local existed = redis.call('EXISTS', key) == 1
local pairs_ = {}
for i = first, #ARGV, 3 do
  pairs_[#pairs_ + 1] = ARGV[i]
  pairs_[#pairs_ + 1] = ARGV[i + 1]
  if #pairs_ >= 1000 then
    redis.call('HSET', key, unpack(pairs_))
    pairs_ = {}
  end
end
if #pairs_ > 0 then redis.call('HSET', key, unpack(pairs_)) end
for i = first, #ARGV, 3 do
  local t = tonumber(ARGV[i + 2])
  if native then
    if t then redis.call('HPEXPIRE', key, t, 'FIELDS', 1, ARGV[i]) end
  elseif t then
    deadlines[ARGV[i]] = now + t
  else
    deadlines[ARGV[i]] = nil
  end
end
if not native then
  if next(deadlines) == nil then redis.call('HDEL', key, '${DEADLINES_FIELD}')
  else redis.call('HSET', key, '${DEADLINES_FIELD}', cjson.encode(deadlines)) end
end
if keyTtl then
  local current = redis.call('PTTL', key)
  if not existed or (current >= 0 and current < keyTtl) then redis.call('PEXPIRE', key, keyTtl) end
end
return 1
`;

// Merges a JSON object into the JSON object stored under a key, as text: cjson re-encodes numbers
// with at most 14 significant digits (and refuses NaN, which Python's json writes), so values are
// never re-encoded. Each top-level member is cut out of the text as it is, the patch's members
// replace the stored ones with the same name (names compared decoded, so "\\u00e9" and "é" match)
// and the rest are appended, with the separators of Python's json.dumps. The same TTL rule as
// HASH_WRITE. ARGV: patch, key TTL (ms, '' for none).
const JSON_MERGE = `
local function members(s)
  local i, n = 1, #s
  local function ws()
    while i <= n do
      local c = s:byte(i)
      if c == 32 or c == 9 or c == 10 or c == 13 then i = i + 1 else break end
    end
  end
  local function str()
    i = i + 1
    while true do
      local c = s:byte(i)
      if c == nil then return false end
      if c == 92 then i = i + 2 elseif c == 34 then i = i + 1; return true else i = i + 1 end
    end
  end
  ws()
  if s:byte(i) ~= 123 then return nil end
  i = i + 1
  local out = {}
  ws()
  if s:byte(i) == 125 then
    i = i + 1; ws()
    if i <= n then return nil end
    return out
  end
  while true do
    ws()
    if s:byte(i) ~= 34 then return nil end
    local ks = i
    if not str() then return nil end
    local ktext = s:sub(ks, i - 1)
    local ok, name = pcall(cjson.decode, ktext)
    if not ok or type(name) ~= 'string' then return nil end
    ws()
    if s:byte(i) ~= 58 then return nil end
    i = i + 1; ws()
    local vs, depth = i, 0
    while true do
      local c = s:byte(i)
      if c == nil then return nil end
      if c == 34 then
        if not str() then return nil end
      elseif c == 123 or c == 91 then depth = depth + 1; i = i + 1
      elseif c == 125 or c == 93 then
        if depth == 0 then break end
        depth = depth - 1; i = i + 1
      elseif c == 44 and depth == 0 then break
      else i = i + 1 end
    end
    local value = s:sub(vs, i - 1):match('^(.-)%s*$')
    if value == '' then return nil end
    out[#out + 1] = { name, ktext, value }
    local c = s:byte(i)
    if c == 44 then i = i + 1
    elseif c == 125 then
      i = i + 1; ws()
      if i <= n then return nil end
      return out
    else return nil end
  end
end
local key = KEYS[1]
local keyTtl = tonumber(ARGV[2])
local patch = members(ARGV[1])
if patch == nil then return redis.error_reply('FRNOTOBJECT the patch is not a JSON object') end
local current = redis.call('GET', key)
local stored = {}
if current then
  stored = members(current)
  if stored == nil then return redis.error_reply('FRNOTOBJECT the stored value is not a JSON object') end
end
local at = {}
for j, m in ipairs(stored) do at[m[1]] = j end
for _, m in ipairs(patch) do
  local j = at[m[1]]
  if j then stored[j] = m else stored[#stored + 1] = m; at[m[1]] = #stored end
end
local parts = {}
for j, m in ipairs(stored) do parts[j] = m[2] .. ': ' .. m[3] end
local existed = current ~= false
redis.call('SET', key, '{' .. table.concat(parts, ', ') .. '}', 'KEEPTTL')
if keyTtl then
  local ttl = redis.call('PTTL', key)
  if not existed or (ttl >= 0 and ttl < keyTtl) then redis.call('PEXPIRE', key, keyTtl) end
end
return 1
`;

interface Script {
  text: string;
  sha: string;
}
const script = (text: string): Script => ({ text, sha: createHash('sha1').update(text).digest('hex') });
const HASH_WRITE_SCRIPT = script(HASH_WRITE);
const JSON_MERGE_SCRIPT = script(JSON_MERGE);

/**
 * The hash operations of a Redis store (see hash-store.ts), on one server or a cluster: every
 * command names one key, so `send` routes it. Whether the server has field expiry is asked once,
 * with the first call, by COMMAND INFO HPEXPIRE (a capability, not a version number: Valkey 8
 * reports 7.2.4 and has none; a managed Redis may rename or disable commands).
 */
export class RedisHashes {
  readonly #send: SendFn;
  #fieldExpiry: Promise<boolean> | undefined;

  constructor(send: SendFn) {
    this.#send = send;
  }

  hasFieldExpiry(anyKey: string): Promise<boolean> {
    this.#fieldExpiry ??= this.#send<unknown[]>(['COMMAND', 'INFO', 'HPEXPIRE'], anyKey, true).then(
      (reply) => Array.isArray(reply) && reply[0] !== null && reply[0] !== undefined,
      (error: unknown) => {
        this.#fieldExpiry = undefined; // asked again by the next call
        throw error;
      },
    );
    return this.#fieldExpiry;
  }

  /**
   * Runs a script by its SHA1 (EVALSHA), and by its text (EVAL, which loads it) when the server
   * does not have it yet (NOSCRIPT: a new or restarted server, a failover, SCRIPT FLUSH): the
   * script text is about 2 KB, more than a streaming update's own arguments.
   */
  async #script(script: Script, key: string, args: RedisArgument[]): Promise<unknown> {
    try {
      return await this.#send(['EVALSHA', script.sha, '1', key, ...args], key, false);
    } catch (error) {
      if (!(error instanceof ErrorReply && error.message.startsWith('NOSCRIPT'))) throw error;
      return this.#send(['EVAL', script.text, '1', key, ...args], key, false);
    }
  }

  async write(key: string, fields: readonly HashFieldWrite[], options: HashWriteOptions = {}): Promise<boolean> {
    checkFieldNames(fields.map((f) => f.field));
    const convert = options.convert;
    if (convert) checkFieldNames(convert.fields.map((f) => f.field));
    const native = await this.hasFieldExpiry(key);
    const args: RedisArgument[] = [String(Date.now()), ttlArg(options.ttlMs), options.replace ? '1' : '0', native ? '1' : '0'];
    args.push(convert ? toBuffer(convert.expect) : '', String(convert?.fields.length ?? 0));
    for (const f of convert?.fields ?? []) args.push(f.field, toBuffer(f.value));
    for (const f of fields) args.push(f.field, toBuffer(f.value), ttlArg(f.ttlMs));
    const written = await this.#script(HASH_WRITE_SCRIPT, key, args).catch((error: unknown) => rethrow(error, key));
    return Number(written) === 1;
  }

  async read(keys: readonly string[], fields?: readonly string[]): Promise<HashReadResult[]> {
    if (keys.length === 0) return [];
    if (fields !== undefined) checkFieldNames(fields);
    const native = await this.hasFieldExpiry(keys[0]!);
    const now = Date.now();
    return Promise.all(
      keys.map(async (key) => {
        try {
          if (fields === undefined) return liveFields(await this.#send<Buffer[] | Record<string, Buffer>>(['HGETALL', key], key, true), now);
          if (fields.length === 0) return new Map<string, Uint8Array>();
          const wanted = native ? fields : [...fields, DEADLINES_FIELD];
          const values = await this.#send<(Buffer | null)[]>(['HMGET', key, ...wanted], key, true);
          const deadlines = native ? undefined : parseDeadlines(values[fields.length] ?? null);
          const out = new Map<string, Uint8Array>();
          fields.forEach((field, i) => {
            const value = values[i];
            if (value !== null && value !== undefined && !isPast(deadlines, field, now)) out.set(field, value);
          });
          return out;
        } catch (error) {
          // A key of an older format holds a plain value: its bytes, for the caller to read as before.
          if (error instanceof ErrorReply && error.message.startsWith('WRONGTYPE')) {
            const plain = await this.#send<Buffer | null>(['GET', key], key, true).catch((e: unknown) => rethrow(e, key));
            if (plain !== null) return plain;
          }
          return rethrow(error, key);
        }
      }),
    );
  }

  async delete(key: string, fields: readonly string[]): Promise<number> {
    checkFieldNames(fields);
    if (fields.length === 0) return 0;
    try {
      return Number(await this.#send<number>(['HDEL', key, ...fields], key, false));
    } catch (error) {
      return rethrow(error, key);
    }
  }

  async jsonMerge(key: string, patch: Uint8Array, ttlMs: number | undefined): Promise<void> {
    await this.#script(JSON_MERGE_SCRIPT, key, [toBuffer(patch), ttlArg(ttlMs)]).catch((error: unknown) => rethrow(error, key));
  }
}

function ttlArg(ttlMs: number | undefined): string {
  if (ttlMs === undefined) return '';
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new FinRiskCacheError('E_INVALID_VALUE', `a TTL must be a positive whole number of ms, got ${String(ttlMs)}`);
  return String(ttlMs);
}

/** The deadlines a server without field expiry keeps; another process wrote them, so anything unexpected counts as none. */
function parseDeadlines(raw: Buffer | null): Map<string, number> | undefined {
  if (raw === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const out = new Map<string, number>();
    for (const [field, deadline] of Object.entries(parsed)) if (typeof deadline === 'number') out.set(field, deadline);
    return out;
  } catch {
    return undefined;
  }
}

function isPast(deadlines: Map<string, number> | undefined, field: string, now: number): boolean {
  const deadline = deadlines?.get(field);
  return deadline !== undefined && deadline <= now;
}

/** The caller's fields of an HGETALL reply (RESP2: a flat array; RESP3: a map), those past their deadline left out. */
function liveFields(reply: Buffer[] | Record<string, Buffer>, now: number): Map<string, Uint8Array> {
  const flat: [string, Buffer][] = [];
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) flat.push([reply[i]!.toString('utf8'), reply[i + 1]!]);
  else for (const [field, value] of Object.entries(reply)) flat.push([field, value]);
  const deadlines = parseDeadlines(flat.find(([field]) => field === DEADLINES_FIELD)?.[1] ?? null);
  const out = new Map<string, Uint8Array>();
  for (const [field, value] of flat) {
    if (!field.startsWith(RESERVED_FIELD_PREFIX) && !isPast(deadlines, field, now)) out.set(field, value);
  }
  return out;
}

/** A WRONGTYPE or a script's FRNOTOBJECT is about what is stored, not the server: E_PAYLOAD_CORRUPT. */
function rethrow(error: unknown, key: string): never {
  if (error instanceof ErrorReply) {
    if (error.message.startsWith('WRONGTYPE')) throw wrongType(key);
    const at = error.message.indexOf('FRNOTOBJECT');
    if (at >= 0) throw new FinRiskCacheError('E_PAYLOAD_CORRUPT', `cannot merge into ${key}: ${error.message.slice(at + 12).split(' script:')[0]}`, { cause: error });
  }
  throw error;
}

function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
