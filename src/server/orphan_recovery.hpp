// Orphan recovery: puts the in-progress jobs of crashed processes back at the front of their
// queues, so that reliable fetch never loses a job (issue 5).
//
// Two rules, both safe: neither ever takes jobs from a process that could still ack them.
//  1. Expired heartbeat (any host): Store::recover_orphans() requeues the in-progress lists of
//     identities whose process hash has expired. A crash is noticed within
//     process_ttl + check interval (default 60 s + 5 s = the 65 s promise).
//  2. Dead local process (at once): a process that still has a live heartbeat hash, but whose
//     `kiq_scope` (boot id + pid namespace, written into its heartbeat info by the server) equals
//     ours and whose pid does not exist any more (kill(pid, 0) fails with ESRCH). Same boot and
//     same pid namespace make the pid check conclusive; pid reuse can only make it say "alive",
//     which merely defers the job to rule 1. Processes without `kiq_scope` (Ruby, old kiq) are
//     only ever handled by rule 1.
// After a crash a job may therefore run twice (at-least-once); the jid identifies it.
//
// Thread-safety: OrphanRecovery is not thread-safe; the server calls it from one thread. The
// free functions are thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kiq/store.hpp"

namespace spdlog {
class logger;
}

namespace kiq::server {

// "<boot id>/<pid namespace>", e.g. "75e2...-5f29/pid:[4026531836]": two processes with the
// same scope see the same pids. Empty when /proc does not tell (then rule 2 is never used).
// Computed once per process.
const std::string& local_process_scope();

// The info key under which the heartbeat publishes local_process_scope().
inline constexpr const char* kScopeInfoKey = "kiq_scope";

// True unless kill(pid, 0) reports ESRCH (EPERM means it exists but belongs to someone else).
bool pid_alive(pid_t pid);

// What a heartbeat record says about where a process runs; nullopt for malformed info.
struct ProcessLocation {
  std::string scope;  // info.kiq_scope, may be empty
  pid_t pid = 0;      // info.pid
};
std::optional<ProcessLocation> location_of(const ProcessRecord& record);

struct RecoveryCounts {
  std::size_t expired = 0;     // jobs of processes whose heartbeat expired (rule 1)
  std::size_t local_dead = 0;  // jobs of dead processes on this host (rule 2)
  std::size_t total() const { return expired + local_dead; }
};

class OrphanRecovery {
 public:
  // `self_identity` is never recovered. `logger` may be null (spdlog's default logger).
  OrphanRecovery(Store& store, std::string self_identity, std::shared_ptr<spdlog::logger> logger);

  // Applies both rules once. Store errors (Redis away) are logged once per outage and
  // swallowed: the next call tries again.
  RecoveryCounts run_once();

  // Jittered delay until the next run_once (interval * [0.75, 1.25)), so that many servers
  // started together do not all scan at the same moment.
  static std::chrono::milliseconds next_delay(std::chrono::milliseconds interval);

 private:
  std::size_t recover_dead_local();

  Store& store_;
  std::string self_;
  std::shared_ptr<spdlog::logger> logger_;
  bool failing_ = false;
};

}  // namespace kiq::server
