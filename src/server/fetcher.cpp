// Fetcher: reliable, batched fetch from the store into the local job buffer.
#include <fmt/format.h>

#include "server/state.hpp"

namespace kiq::server {

void run_fetcher(State& state) {
  const std::size_t batch = fetch_batch_size(state.options);
  bool outage = false;  // log a store outage once, not on every attempt
  while (!state.quiet && !state.stopping) {
    std::size_t space = state.buffer.wait_for_space(std::chrono::milliseconds(200));
    if (space == 0) continue;
    std::vector<FetchedJob> jobs;
    try {
      jobs = state.store->fetch(state.identity, state.queue_order.next(), std::min(space, batch),
                                state.options.fetch_timeout);
      if (outage) log_line(*state.logger, spdlog::level::info, "", "fetch: store reachable again");
      outage = false;
    } catch (const std::exception& e) {
      if (!outage) log_line(*state.logger, spdlog::level::err, "", fmt::format("fetch failed: {}", e.what()));
      outage = true;
      state.sleep_for(std::chrono::seconds(1));
      continue;
    }
    // Quiet or stop came while the fetch was blocked: put the jobs straight back (Sidekiq's
    // RPUSH when a job arrives at a stopping processor), so quiet takes nothing new at once.
    if (!jobs.empty() && (state.quiet || state.stopping)) {
      try {
        state.store->requeue(state.identity, jobs);
        state.requeued += static_cast<std::int64_t>(jobs.size());
        break;
      } catch (const std::exception& e) {
        // Store away again: run them rather than leave them owned by nobody in this process.
        log_line(*state.logger, spdlog::level::err, "", fmt::format("requeue after quiet failed: {}", e.what()));
      }
    }
    if (!jobs.empty()) state.buffer.push(std::move(jobs));
  }
  // Quiet (or stop): fetched jobs no worker has started go back at once, so a quiet process
  // starts nothing new (Sidekiq) and another process can take them.
  std::vector<FetchedJob> unstarted = state.buffer.take_all();
  if (unstarted.empty()) return;
  try {
    state.store->requeue(state.identity, unstarted);
    state.requeued += static_cast<std::int64_t>(unstarted.size());
  } catch (const std::exception& e) {
    state.buffer.push(std::move(unstarted));  // keep them: stop() retries, or workers run them
    log_line(*state.logger, spdlog::level::err, "", fmt::format("requeue at quiet failed: {}", e.what()));
  }
}

}  // namespace kiq::server
