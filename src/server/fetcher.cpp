// Fetcher: reliable, batched fetch from the store into the local job buffer, by whoever holds
// the buffer's fetch claim: a worker (non-blocking, while others run jobs) or the fetcher
// thread (which also waits on empty queues and rides out store outages).
#include <fmt/format.h>

#include "server/state.hpp"

namespace kiq::server {
namespace {

// One fetch of up to `n` jobs under the claim, ending the claim. Returns false on a store
// error (logged once per outage).
bool fetch_claimed(State& state, std::size_t n, std::chrono::milliseconds timeout, bool fetcher_thread) {
  std::vector<FetchedJob> jobs;
  try {
    jobs = state.store->fetch(state.identity, state.queue_order.next(), n, timeout);
    if (state.fetch_outage.exchange(false))
      log_line(*state.logger, spdlog::level::info, "", "fetch: store reachable again");
  } catch (const std::exception& e) {
    if (!state.fetch_outage.exchange(true))
      log_line(*state.logger, spdlog::level::err, "", fmt::format("fetch failed: {}", e.what()));
    state.buffer.finish_fetch({}, fetcher_thread);  // the fetcher thread retries, with a pause
    return false;
  }
  // Quiet or stop came while the fetch was in flight: put the jobs straight back (Sidekiq's
  // RPUSH when a job arrives at a stopping processor), so quiet takes nothing new at once.
  if (!jobs.empty() && (state.quiet || state.stopping) && requeue_jobs(state, jobs, "after quiet", false)) {
    jobs.clear();
  }
  // Closed meanwhile (shutdown took the buffer): requeue ourselves; if the store is away again,
  // they stay in progress where the next start's orphan recovery finds them.
  std::vector<FetchedJob> rejected = state.buffer.finish_fetch(std::move(jobs), fetcher_thread);
  if (!rejected.empty()) requeue_jobs(state, rejected, "after shutdown", false);
  return true;
}

}  // namespace

void fetch_as_worker(State& state) {
  if (state.quiet || state.stopping || !state.alive) return;
  if (std::size_t n = state.buffer.try_claim(); n > 0)
    fetch_claimed(state, n, std::chrono::milliseconds(0), false);
}

void run_fetcher(State& state) {
  while (!state.quiet && !state.stopping) {
    if (!state.alive) {  // not visibly alive yet (see State::alive): the heartbeat retries
      state.sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    std::size_t n = state.buffer.wait_and_claim(std::chrono::milliseconds(200));
    if (n == 0) continue;
    if (!fetch_claimed(state, n, state.options.fetch_timeout, true)) state.sleep_for(std::chrono::seconds(1));
  }
  // Quiet (or stop): fetched jobs no worker has started go back at once, so a quiet process
  // starts nothing new (Sidekiq) and another process can take them.
  std::vector<FetchedJob> unstarted = state.buffer.take_all();
  if (unstarted.empty()) return;
  if (!requeue_jobs(state, unstarted, "at quiet", false)) {
    // Keep them: stop() retries the requeue, or workers run them.
    // If shutdown closed the buffer meanwhile they stay in progress: the stray-job sweep or the
    // next start's orphan recovery brings them back.
    (void)state.buffer.put_back(std::move(unstarted));
  }
}

}  // namespace kiq::server
