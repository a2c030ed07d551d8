#include "store/redis/scripts.hpp"

namespace kiq::redis_scripts {

std::string LuaScript::load(RedisConnection& c) {
  auto r = c.command({"SCRIPT", "LOAD", source_});
  r.check();
  std::lock_guard lock(mu_);
  sha_ = r.str;
  return sha_;
}

RedisReply LuaScript::run(RedisConnection& c, const std::vector<std::string>& args) {
  std::string sha;
  {
    std::lock_guard lock(mu_);
    sha = sha_;
  }
  if (sha.empty()) sha = load(c);
  std::vector<std::string> argv{"EVALSHA", sha, "0"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = c.command(argv);
  if (r.is_error() && r.str.rfind("NOSCRIPT", 0) == 0) {
    argv[1] = load(c);  // NOSCRIPT means nothing ran: safe to retry
    r = c.command(argv);
  }
  r.check();
  return r;
}

// Fields of the in-progress hashes come from a counter per identity (kiq:seq|<identity>), so
// they increase with the fetch order and never repeat while the identity owns jobs.
const char* const kFetch = R"lua(
local id = ARGV[1]
local max = tonumber(ARGV[2])
local out = {}
local n = 0
for i = 3, #ARGV do
  if n >= max then break end
  local q = ARGV[i]
  local src = 'queue:' .. q
  local dst = 'kiq:inprogress|' .. id .. '|' .. q
  local took = 0
  while n < max do
    -- RPOP with a count (Redis >= 6.2) takes a whole batch in one call; chunks of at most
    -- 1000 keep unpack within Lua's stack.
    local want = math.min(max - n, 1000)
    local got = redis.pcall('RPOP', src, want)
    if type(got) == 'table' and got.err then  -- Redis < 6.2: one RPOP per job
      got = {}
      for _ = 1, want do
        local job = redis.call('RPOP', src)
        if not job then break end
        got[#got + 1] = job
      end
    elseif not got then
      got = {}
    end
    if #got == 0 then break end
    local first = redis.call('INCRBY', 'kiq:seq|' .. id, #got) - #got + 1
    local args = {}
    out[#out + 1] = q
    out[#out + 1] = first
    out[#out + 1] = #got
    for j = 1, #got do
      args[#args + 1] = string.format('%d', first + j - 1)
      args[#args + 1] = got[j]
      out[#out + 1] = got[j]
    end
    redis.call('HSET', dst, unpack(args))
    n = n + #got
    took = took + #got
    if #got < want then break end
  end
  if took > 0 then redis.call('SADD', 'kiq:inprogress|' .. id, q) end
end
if n > 0 then redis.call('SADD', 'kiq:inprogress', id) end
return out
)lua";

const char* const kFindFieldFunction = R"lua(
local function find_field(key, job)
  local kv = redis.call('HGETALL', key)
  local best = nil
  for i = 1, #kv, 2 do
    if kv[i + 1] == job and (best == nil or tonumber(kv[i]) < tonumber(best)) then best = kv[i] end
  end
  return best
end
)lua";

const char* const kFindField = R"lua(
return find_field('kiq:inprogress|' .. ARGV[1] .. '|' .. ARGV[2], ARGV[3])
)lua";

const char* const kRequeue = R"lua(
local id = ARGV[1]
local n = 0
for i = 2, #ARGV, 3 do
  local q = ARGV[i]
  local token = ARGV[i + 1]
  local job = ARGV[i + 2]
  local key = 'kiq:inprogress|' .. id .. '|' .. q
  if token == '' then token = find_field(key, job) end
  if token and redis.call('HDEL', key, token) > 0 then
    redis.call('RPUSH', 'queue:' .. q, job)
    redis.call('SADD', 'queues', q)
    n = n + 1
  end
end
return n
)lua";

// Newest-fetched first (fields in decreasing order); RPUSHing in that order leaves the
// oldest-fetched job at the consumer end, so recovered jobs run in their original order, before
// anything else. An in-progress LIST (written by kiq before the hash) is recovered too.
// Claims (see kPopDue) go back into their sorted set with their original score first; mode
// 'claims' stops there (a live poller restoring its own, leaving its in-progress jobs alone).
const char* const kRecover = R"lua(
local id = ARGV[1]
local mode = ARGV[2]
if mode == '1' and redis.call('EXISTS', id) == 1 then return -1 end
local total = 0
for _, set in ipairs({'schedule', 'retry', 'dead'}) do
  local ck = 'kiq:claims|' .. id .. '|' .. set
  local kv = redis.call('HGETALL', ck)
  if #kv > 0 then
    local args = {}
    for i = 1, #kv, 2 do
      args[#args + 1] = kv[i + 1]
      args[#args + 1] = kv[i]
      if #args >= 1000 then
        redis.call('ZADD', set, unpack(args))
        args = {}
      end
    end
    if #args > 0 then redis.call('ZADD', set, unpack(args)) end
    redis.call('DEL', ck)
    total = total + #kv / 2
  end
end
if mode == 'claims' then return total end
local function newer(a, b) return tonumber(a) > tonumber(b) end
local qset = 'kiq:inprogress|' .. id
for _, q in ipairs(redis.call('SMEMBERS', qset)) do
  local src = qset .. '|' .. q
  local kind = redis.call('TYPE', src).ok
  local jobs = {}
  if kind == 'hash' then
    local kv = redis.call('HGETALL', src)
    local fields, by_field = {}, {}
    for i = 1, #kv, 2 do
      fields[#fields + 1] = kv[i]
      by_field[kv[i]] = kv[i + 1]
    end
    table.sort(fields, newer)
    for i, f in ipairs(fields) do jobs[i] = by_field[f] end
  elseif kind == 'list' then
    jobs = redis.call('LRANGE', src, 0, -1)
  end
  if #jobs > 0 then
    local dst = 'queue:' .. q
    for i = 1, #jobs, 1000 do
      redis.call('RPUSH', dst, unpack(jobs, i, math.min(i + 999, #jobs)))
    end
    redis.call('SADD', 'queues', q)
    total = total + #jobs
  end
  redis.call('DEL', src)
end
redis.call('DEL', qset, 'kiq:seq|' .. id)
redis.call('SREM', 'kiq:inprogress', id)
return total
)lua";

// WITHSCORES gives member, score pairs: exactly HSET's field, value pairs (chunks stay even).
// Scores come back as Redis prints them (round-trip exact), so a restore keeps the run-at.
const char* const kPopDue = R"lua(
local id = ARGV[1]
local key = ARGV[2]
local got = redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[3], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[4]))
if #got == 0 then return {} end
local members = {}
for i = 1, #got, 2 do members[#members + 1] = got[i] end
for i = 1, #members, 1000 do
  redis.call('ZREM', key, unpack(members, i, math.min(i + 999, #members)))
end
local claims = 'kiq:claims|' .. id .. '|' .. key
for i = 1, #got, 1000 do
  redis.call('HSET', claims, unpack(got, i, math.min(i + 999, #got)))
end
redis.call('SADD', 'kiq:inprogress', id)
return members
)lua";

}  // namespace kiq::redis_scripts
