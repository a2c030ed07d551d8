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
// Rule 1 is the store's (Store::recover_orphans); this file adds rule 2. The server applies both
// in recover_orphans(State&) (orphan_recovery.cpp), at start and every orphan_check_interval.
//
// Thread-safety: every function here is thread-safe.
#pragma once

#include <sys/types.h>

#include <cstddef>
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

// Rule 2: requeues the jobs of every process in `processes` that shares our scope and whose
// pid is gone, then removes that process. Never touches `self`. Returns the jobs requeued.
// Throws StoreError when the store is unreachable (the caller retries on its next round).
std::size_t recover_dead_local_processes(Store& store, std::string_view self, spdlog::logger& logger);

}  // namespace kiq::server
