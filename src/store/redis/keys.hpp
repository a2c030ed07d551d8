// Redis key names: Sidekiq's (no prefix) and kiq's reliable-fetch bookkeeping (kiq: prefix, a
// '|' separator so identities and queue names containing ':' cannot collide).
#pragma once

#include <string>
#include <string_view>

#include "kiq/store.hpp"

// In-progress jobs: one HASH per identity and queue, field = fetch number, value = payload (see
// scripts.hpp).
namespace kiq::redis_keys {

inline constexpr std::string_view kQueues = "queues";
inline constexpr std::string_view kProcesses = "processes";
inline constexpr std::string_view kInProgressOwners = "kiq:inprogress";
// kInProgressPrefix + identity + '|' + queue: a process's in-progress hash of one queue.
inline constexpr std::string_view kInProgressPrefix = "kiq:inprogress|";

inline std::string queue(std::string_view q) { return "queue:" + std::string(q); }
inline std::string in_progress_queues(std::string_view id) {
  return "kiq:inprogress|" + std::string(id);
}
inline std::string in_progress(std::string_view id, std::string_view q) {
  std::string key(kInProgressPrefix);
  key.append(id).append(1, '|').append(q);
  return key;
}
inline std::string work(std::string_view id) { return std::string(id) + ":work"; }
// Sidekiq 6.x reads running jobs from "<identity>:workers" (7.x renamed it ":work"): the
// heartbeat writes both so Sidekiq::Workers / the Busy page of either version see kiq's jobs.
inline std::string workers_v6(std::string_view id) { return std::string(id) + ":workers"; }
inline std::string signals(std::string_view id) { return std::string(id) + "-signals"; }

inline const char* sorted_set(SortedSetName s) {
  switch (s) {
    case SortedSetName::kSchedule: return "schedule";
    case SortedSetName::kRetry: return "retry";
    case SortedSetName::kDead: return "dead";
  }
  return "dead";
}

// HASH member -> score: members identity's poller popped from `set`, not yet handed on. The
// pop_due / recover scripts build the same name.
inline std::string claims(std::string_view id, SortedSetName set) {
  return "kiq:claims|" + std::string(id) + "|" + sorted_set(set);
}

}  // namespace kiq::redis_keys
