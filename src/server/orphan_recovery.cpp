// Orphan recovery: jobs in the in-progress lists of processes whose heartbeat expired go back
// to their queues. Runs at start and every orphan_check_interval (from the heartbeat thread).
// Kept apart so the reliability work can tune it without touching the heartbeat.
#include <fmt/format.h>

#include "server/orphan_rules.hpp"
#include "server/state.hpp"

namespace kiq::server {

std::size_t recover_orphans(State& state) {
  // Dead processes of this host first (at once, see orphan_rules.hpp), then expired ones.
  std::size_t n = recover_dead_local_processes(*state.store, state.identity, *state.logger);
  n += state.store->recover_orphans();
  if (n > 0) {
    state.recovered += static_cast<std::int64_t>(n);
    log_line(*state.logger, spdlog::level::warn, "",
             fmt::format("recovered {} job(s) from dead processes' in-progress lists", n));
  }
  sweep_stray_jobs(state);
  return n;
}

std::size_t sweep_stray_jobs(State& state) {
  std::vector<FetchedJob> held = state.buffer.snapshot();
  for (auto& job : state.in_hand()) held.push_back(std::move(job));  // running ones included
  std::size_t n = state.strays.sweep(*state.store, state.identity, held);
  if (n > 0) {
    state.recovered += static_cast<std::int64_t>(n);
    log_line(*state.logger, spdlog::level::warn, "",
             fmt::format("requeued {} job(s) left in this process's in-progress list by failed "
                         "store calls (they may run again: at-least-once)", n));
  }
  return n;
}

}  // namespace kiq::server
