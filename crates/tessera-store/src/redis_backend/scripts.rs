//! The Lua scripts: every read-modify-write of the Redis store, each run
//! atomically by the server, which also `PUBLISH`es the invalidation.

use redis::Script;

const PUT_NONCE: &str = r#"
redis.call('SET', KEYS[1], ARGV[1])
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1
"#;

const CONSUME_NONCE: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
redis.call('DEL', KEYS[1])
if tonumber(ARGV[1]) < tonumber(v) then return 1 end
return 0
"#;

const REMEMBER_ONCE: &str = r#"
local v = redis.call('GET', KEYS[1])
if v and tonumber(ARGV[2]) < tonumber(v) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
return 1
"#;

// KEYS: family, token, subject index, revoked-family index.
// ARGV: id, subject, amr, created, exp, revoked, tv, family ttl_at,
//       token exp, token ttl_at, slack.
const CREATE_FAMILY: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 1 then return 'family' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'token' end
redis.call('HSET', KEYS[1], 'subject', ARGV[2], 'amr', ARGV[3], 'created', ARGV[4],
  'exp', ARGV[5], 'revoked', ARGV[6], 'tv', ARGV[7])
redis.call('EXPIREAT', KEYS[1], ARGV[8])
redis.call('HSET', KEYS[2], 'family', ARGV[1], 'exp', ARGV[9])
redis.call('EXPIREAT', KEYS[2], ARGV[10])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
local top = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
redis.call('EXPIREAT', KEYS[3], string.format('%d', tonumber(top[2]) + tonumber(ARGV[11])))
if ARGV[6] == '1' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1]) end
return 'ok'
"#;

// The rules of `rotation::decide`, in Lua.
// KEYS: presented token, successor token, revoked-family index.
// ARGV: prefix, now, grace (>= 0), successor exp, successor ttl_at,
//       instance, channel, successor hex.
const ROTATE: &str = r#"
local t = redis.call('HMGET', KEYS[1], 'family', 'exp', 'spent', 'succ', 'replaced')
if not t[1] then return {'notfound'} end
local fk = ARGV[1] .. ':fam:' .. t[1]
local f = redis.call('HMGET', fk, 'subject', 'amr', 'created', 'exp', 'revoked', 'tv')
if not f[1] then return {'notfound'} end
local now = tonumber(ARGV[2])
if f[5] == '1' then return {'revoked'} end
if now >= tonumber(t[2]) or now >= tonumber(f[4]) then return {'expired'} end
local pk = nil
if t[4] then pk = ARGV[1] .. ':tok:' .. t[4] end
local step
if t[5] == '1' then
  step = 'reuse'
elseif not t[3] then
  step = 'rotated'
elseif now < tonumber(t[3]) + tonumber(ARGV[3])
    and not (pk and redis.call('HEXISTS', pk, 'spent') == 1) then
  step = 'reissued'
else
  step = 'reuse'
end
if step == 'reuse' then
  redis.call('HSET', fk, 'revoked', '1', 'revoked_at', ARGV[2])
  redis.call('ZADD', KEYS[3], f[4], t[1])
  redis.call('PUBLISH', ARGV[7], ARGV[6] .. '|f|' .. t[1])
  return {'reuse', t[1], f[1]}
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'conflict'} end
if step == 'rotated' then
  redis.call('HSET', KEYS[1], 'spent', ARGV[2], 'succ', ARGV[8])
else
  -- HSET on a key that expired would create it without a TTL.
  if pk and redis.call('EXISTS', pk) == 1 then redis.call('HSET', pk, 'replaced', '1') end
  redis.call('HSET', KEYS[1], 'succ', ARGV[8])
end
redis.call('HSET', KEYS[2], 'family', t[1], 'exp', ARGV[4])
redis.call('EXPIREAT', KEYS[2], ARGV[5])
return {step, t[1], f[1], f[2], f[3], f[4], f[5], f[6]}
"#;

// KEYS: token. ARGV: prefix.
const FAMILY_OF_TOKEN: &str = r#"
local id = redis.call('HGET', KEYS[1], 'family')
if not id then return {} end
local f = redis.call('HMGET', ARGV[1] .. ':fam:' .. id, 'subject', 'amr', 'created', 'exp', 'revoked', 'tv')
if not f[1] then return {} end
return {id, f[1], f[2], f[3], f[4], f[5], f[6]}
"#;

// KEYS: family, revoked-family index. ARGV: id, now, instance, channel.
const REVOKE_FAMILY: &str = r#"
local f = redis.call('HMGET', KEYS[1], 'revoked', 'exp')
if not f[2] then return 0 end
if f[1] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'revoked', '1', 'revoked_at', ARGV[2])
redis.call('ZADD', KEYS[2], f[2], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[3] .. '|f|' .. ARGV[1])
return 1
"#;

// KEYS: subject index, revoked-family index. ARGV: prefix, now, instance,
// channel.
const REVOKE_SUBJECT: &str = r#"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[2], '+inf')
local now = tonumber(ARGV[2])
local out = {}
for _, id in ipairs(ids) do
  local fk = ARGV[1] .. ':fam:' .. id
  local f = redis.call('HMGET', fk, 'revoked', 'exp')
  if f[2] and f[1] ~= '1' and now < tonumber(f[2]) then
    redis.call('HSET', fk, 'revoked', '1', 'revoked_at', ARGV[2])
    redis.call('ZADD', KEYS[2], f[2], id)
    redis.call('PUBLISH', ARGV[4], ARGV[3] .. '|f|' .. id)
    out[#out + 1] = id
  end
end
return out
"#;

// KEYS: jti, revoked-jti index. ARGV: jti, exp, slack, instance, channel.
const REVOKE_JTI: &str = r#"
local exp = ARGV[2]
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) > tonumber(exp) then exp = cur end
redis.call('SET', KEYS[1], exp)
redis.call('EXPIREAT', KEYS[1], string.format('%d', tonumber(exp) + tonumber(ARGV[3])))
redis.call('ZADD', KEYS[2], exp, ARGV[1])
redis.call('PUBLISH', ARGV[5], ARGV[4] .. '|j|' .. exp .. '|' .. ARGV[1])
return exp
"#;

// KEYS: versions hash. ARGV: subject, instance, channel, now.
// The new version is max(previous + 1, now): see `Store::bump_token_version`.
const BUMP_VERSION: &str = r#"
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local v = math.max(cur + 1, tonumber(ARGV[4]))
local text = string.format('%d', v)
redis.call('HSET', KEYS[1], ARGV[1], text)
redis.call('PUBLISH', ARGV[3], ARGV[2] .. '|s|' .. text .. '|' .. ARGV[1])
return v
"#;

pub(super) struct Scripts {
    pub(super) put_nonce: Script,
    pub(super) consume_nonce: Script,
    pub(super) remember_once: Script,
    pub(super) create_family: Script,
    pub(super) rotate: Script,
    pub(super) family_of_token: Script,
    pub(super) revoke_family: Script,
    pub(super) revoke_subject: Script,
    pub(super) revoke_jti: Script,
    pub(super) bump_version: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Scripts {
            put_nonce: Script::new(PUT_NONCE),
            consume_nonce: Script::new(CONSUME_NONCE),
            remember_once: Script::new(REMEMBER_ONCE),
            create_family: Script::new(CREATE_FAMILY),
            rotate: Script::new(ROTATE),
            family_of_token: Script::new(FAMILY_OF_TOKEN),
            revoke_family: Script::new(REVOKE_FAMILY),
            revoke_subject: Script::new(REVOKE_SUBJECT),
            revoke_jti: Script::new(REVOKE_JTI),
            bump_version: Script::new(BUMP_VERSION),
        }
    }
}
