// The Lua scripts of the Redis store: every multi-key move that must be atomic (a crash or a
// dropped connection between two commands must never lose or duplicate a job) is one script.
// Keys are derived inside the scripts from ARGV (kiq targets a single Redis, not Cluster).
//
// Thread-safety: LuaScript is safe to share; the cached SHA is guarded by a mutex.
#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "kiq/store/redis.hpp"

namespace kiq::redis_scripts {

class LuaScript {
 public:
  explicit LuaScript(std::string source) : source_(std::move(source)) {}
  // EVALSHA (numkeys 0) with `args`; on NOSCRIPT (cache flushed, new server) it SCRIPT LOADs
  // and retries once. Error replies throw StoreError.
  RedisReply run(RedisConnection& c, const std::vector<std::string>& args);

 private:
  std::string load(RedisConnection& c);
  const std::string source_;
  std::mutex mu_;
  std::string sha_;
};

// In-progress jobs of <identity> fetched from queue <q> live in the HASH
// kiq:inprogress|<identity>|<q>: field = a decimal number from the counter kiq:seq|<identity>
// (increasing in fetch order: the FetchedJob's token), value = the payload. An ack is one
// HDEL of small fields, not an LREM scanning for a ~150-byte payload.

// ARGV: identity, max, queue... -> flat array of groups [queue, first field, n, payload x n, ...]
// (the n jobs' fields are first .. first + n - 1: a small reply, three elements fewer per job).
// Walks the queues in order, moving jobs from queue:<q> into the in-progress hash.
extern const char* const kFetch;
// Defines the Lua function find_field(key, payload): the oldest field of hash `key` whose value
// is `payload`, or nil (a FetchedJob made by hand has no token). kFindField and kRequeue call it:
// their sources are kFindFieldFunction + the script.
extern const char* const kFindFieldFunction;
// ARGV: identity, queue, payload -> the oldest field holding `payload`, or nil.
extern const char* const kFindField;
// ARGV: identity, queue, field, payload, queue, field, payload... -> number requeued. Each job
// still in progress (field deleted now; an empty field: found by payload) goes back to the
// consumer end of its queue (RPUSH); others are skipped.
extern const char* const kRequeue;
// ARGV: identity, mode -> jobs moved back (in-progress jobs + claimed members), or -1 if the
// process is alive. mode "1": only if identity's process hash is gone; "0": regardless;
// "claims": only the claimed members (restore_claims), in-progress jobs untouched. Forgets the
// identity's fetch counter with its in-progress hashes.
extern const char* const kRecover;
// ARGV: identity, zset key, now, limit -> members with score <= now, removed from the zset and
// recorded in kiq:claims|<identity>|<zset key> (member -> score); identity joins kiq:inprogress.
extern const char* const kPopDue;

}  // namespace kiq::redis_scripts

namespace kiq {

// The scripts one RedisStore uses (each caches its SHA after the first SCRIPT LOAD).
struct RedisScripts {
  redis_scripts::LuaScript fetch{redis_scripts::kFetch};
  redis_scripts::LuaScript find_field{std::string(redis_scripts::kFindFieldFunction) +
                                      redis_scripts::kFindField};
  redis_scripts::LuaScript requeue{std::string(redis_scripts::kFindFieldFunction) +
                                   redis_scripts::kRequeue};
  redis_scripts::LuaScript recover{redis_scripts::kRecover};
  redis_scripts::LuaScript pop_due{redis_scripts::kPopDue};
};

}  // namespace kiq
